// Fuzz target: the WebSocket client-frame parser (net/ws_frame) on arbitrary byte streams
// fed in arbitrary pieces. Input layout: byte 0 picks the message bound, bytes 1-4 seed
// the piece sizes, the rest is the stream. The stream is parsed twice, whole and in
// pieces (each piece a fresh buffer, so a pointer kept into an old one is caught by ASan),
// and the parser must:
//   - never hand out a message over the bound, nor text that is not valid UTF-8 (checked
//     against a reference decoder), nor a close code that must not be sent;
//   - never consume more than it was fed, and consume everything until it stops;
//   - never keep more than the bound plus one control frame and one header;
//   - report nothing after a close frame or a violation, and consume nothing more;
//   - report exactly the same events whatever the pieces.
#include "net/ws_frame.hpp"
#include "tests/support/utf8_reference.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace chat::net;

namespace {

void check(bool ok) {
  if (!ok)
    std::abort();
}

struct recorder : ws_parser::handler {
  explicit recorder(uint64_t b) : bound(b) {}
  uint64_t bound;
  bool stopped = false;
  std::vector<std::string> events;

  void event(char kind, std::string_view payload) {
    check(!stopped);
    events.push_back(kind + std::string(payload));
  }
  void on_message(ws_opcode op, std::string_view p) override {
    check(p.size() <= bound);
    check(op == ws_opcode::text || op == ws_opcode::binary);
    if (op == ws_opcode::text)
      check(chat::test::reference_utf8_valid(p));
    event(op == ws_opcode::text ? 'T' : 'B', p);
  }
  void on_ping(std::string_view p) override {
    check(p.size() <= 125);
    event('P', p);
  }
  void on_pong(std::string_view p) override {
    check(p.size() <= 125);
    event('O', p);
  }
  void on_close(uint16_t code, std::string_view reason) override {
    check(code == 1005 || sendable_close_code(code));
    check(chat::test::reference_utf8_valid(reason));
    event('C', std::to_string(code) + ":" + std::string(reason));
    stopped = true;
  }
  void on_protocol_error(uint16_t code, const char*) override {
    check(code == 1002 || code == 1007 || code == 1009);
    event('E', std::to_string(code));
    stopped = true;
  }
};

std::vector<std::string> parse(const std::string& stream, uint64_t bound,
                               const std::vector<size_t>& pieces) {
  ws_parser parser(bound);
  recorder r(bound);
  size_t pos = 0;
  for (size_t n : pieces) {
    std::string piece = stream.substr(pos, n);
    bool was_stopped = parser.stopped();
    size_t consumed = parser.feed(piece.data(), piece.size(), r, int64_t(pos));
    check(consumed <= piece.size());
    check(was_stopped ? consumed == 0 : parser.stopped() || consumed == piece.size());
    check(parser.stopped() == r.stopped);
    check(parser.buffered() <= bound + 125 + 14);
    check(parser.incomplete_since() <= int64_t(pos));
    pos += piece.size();
  }
  return r.events;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5)
    return 0;
  static const uint64_t bounds[] = {0, 1, 125, 256, 1000, 65536};
  uint64_t bound = bounds[data[0] % 6];
  uint32_t seed = uint32_t(data[1]) | uint32_t(data[2]) << 8 | uint32_t(data[3]) << 16
                  | uint32_t(data[4]) << 24;
  std::string stream(reinterpret_cast<const char*>(data + 5), size - 5);

  static const size_t largest[] = {1, 2, 3, 7, 16, 64, 200, 4096};
  size_t max_piece = largest[seed % 8];
  uint32_t x = seed | 1;
  std::vector<size_t> pieces;
  for (size_t left = stream.size(); left > 0;) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    size_t n = std::min(left, 1 + size_t(x % max_piece));
    pieces.push_back(n);
    left -= n;
  }
  auto whole = parse(stream, bound, {stream.size()});
  auto in_pieces = parse(stream, bound, pieces);
  check(whole == in_pieces);
  return 0;
}
