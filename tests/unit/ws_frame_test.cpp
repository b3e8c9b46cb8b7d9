// Unit: WebSocket framing — header sizes, masking, fragmentation, control frames,
// oversize messages skipped without buffering, protocol violations.
#include "net/ws_frame.hpp"
#include "net/server.hpp"

#include <catch2/catch.hpp>

using namespace chat::net;

namespace {

std::string client_frame(uint8_t first, const std::string& payload, bool mask = true) {
  std::string out;
  out.push_back(char(first));
  uint8_t m = mask ? 0x80 : 0;
  if (payload.size() < 126) {
    out.push_back(char(m | payload.size()));
  } else if (payload.size() <= 0xffff) {
    out.push_back(char(m | 126));
    out.push_back(char(payload.size() >> 8));
    out.push_back(char(payload.size() & 0xff));
  } else {
    out.push_back(char(m | 127));
    for (int s = 56; s >= 0; s -= 8)
      out.push_back(char((uint64_t(payload.size()) >> s) & 0xff));
  }
  const char key[4] = {0x11, 0x22, 0x33, 0x44};
  if (mask)
    out.append(key, 4);
  for (size_t i = 0; i < payload.size(); ++i)
    out.push_back(mask ? char(payload[i] ^ key[i & 3]) : payload[i]);
  return out;
}

struct recorder : ws_parser::handler {
  std::vector<std::pair<ws_opcode, std::string>> messages, controls;
  std::vector<uint64_t> too_large;
  uint16_t error = 0;
  void on_message(ws_opcode op, std::string_view p) override { messages.emplace_back(op, p); }
  void on_control(ws_opcode op, std::string_view p) override { controls.emplace_back(op, p); }
  void on_too_large(uint64_t size) override { too_large.push_back(size); }
  void on_protocol_error(uint16_t code, const char*) override { error = code; }
};

size_t feed_all(ws_parser& p, std::string data, recorder& r, size_t chunk) {
  // Feeds `data` in chunks the way a session does: keep unconsumed bytes, append more.
  std::string pending;
  size_t total = 0;
  for (size_t pos = 0; pos < data.size(); pos += chunk) {
    pending.append(data.substr(pos, chunk));
    auto used = p.feed(pending.data(), pending.size(), r);
    total += used;
    pending.erase(0, used);
  }
  return total;
}

} // namespace

TEST_CASE("server frame headers use the shortest length encoding") {
  CHECK(encode_frame(ws_opcode::text, "hi") == std::string("\x81\x02hi", 4));
  auto mid = encode_frame(ws_opcode::text, std::string(300, 'a'));
  CHECK(uint8_t(mid[1]) == 126);
  CHECK(mid.size() == 304);
  auto big = encode_frame(ws_opcode::binary, std::string(70000, 'a'));
  CHECK(uint8_t(big[1]) == 127);
  CHECK(big.size() == 70010);
  auto close = encode_close(1001, "going away");
  CHECK(uint8_t(close[0]) == 0x88);
  CHECK(uint8_t(close[2]) == 0x03);
  CHECK(uint8_t(close[3]) == 0xe9);
}

TEST_CASE("masked frames parse whole or byte by byte") {
  std::string stream = client_frame(0x81, "hello") + client_frame(0x89, "p")
                       + client_frame(0x81, std::string(1000, 'z'))
                       + client_frame(0x82, std::string(70000, 'b'));
  for (size_t chunk : {size_t(1), size_t(7), stream.size()}) {
    ws_parser p(100000);
    recorder r;
    CHECK(feed_all(p, stream, r, chunk) == stream.size());
    REQUIRE(r.messages.size() == 3);
    CHECK(r.messages[0].second == "hello");
    CHECK(r.messages[1].second == std::string(1000, 'z'));
    CHECK(r.messages[2].first == ws_opcode::binary);
    CHECK(r.messages[2].second.size() == 70000);
    REQUIRE(r.controls.size() == 1);
    CHECK(r.controls[0].first == ws_opcode::ping);
  }
}

TEST_CASE("fragmented messages are joined, with control frames in between") {
  std::string stream = client_frame(0x01, "hel") + client_frame(0x8A, "") +
                       client_frame(0x00, "lo ") + client_frame(0x80, "world");
  ws_parser p(1000);
  recorder r;
  CHECK(feed_all(p, stream, r, 3) == stream.size());
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].first == ws_opcode::text);
  CHECK(r.messages[0].second == "hello world");
  CHECK(r.controls.size() == 1);
}

TEST_CASE("oversize messages are reported and skipped; parsing goes on") {
  std::string stream = client_frame(0x81, std::string(5000, 'x')) + client_frame(0x81, "after")
                       + client_frame(0x01, std::string(600, 'y'))
                       + client_frame(0x80, std::string(600, 'y')) + client_frame(0x81, "end");
  ws_parser p(1024);
  recorder r;
  CHECK(feed_all(p, stream, r, 100) == stream.size());
  CHECK(r.too_large == std::vector<uint64_t>{5000, 1200});
  REQUIRE(r.messages.size() == 2);
  CHECK(r.messages[0].second == "after");
  CHECK(r.messages[1].second == "end");
  CHECK(r.error == 0);
}

TEST_CASE("protocol violations are errors") {
  struct { std::string bytes; uint16_t code; } cases[] = {
    {client_frame(0x81, "x", false), 1002},                 // unmasked
    {client_frame(0xC1, "x"), 1002},                        // reserved bit
    {client_frame(0x83, "x"), 1002},                        // unknown opcode
    {client_frame(0x09, "x"), 1002},                        // fragmented control frame
    {client_frame(0x89, std::string(126, 'p')), 1002},      // control frame too long
    {client_frame(0x80, "x"), 1002},                        // continuation without start
    {client_frame(0x01, "a") + client_frame(0x81, "b"), 1002}, // new message mid-fragment
  };
  for (auto& c : cases) {
    ws_parser p(1000);
    recorder r;
    p.feed(c.bytes.data(), c.bytes.size(), r);
    CHECK(r.error == c.code);
    CHECK(p.failed());
  }
}

TEST_CASE("the handshake accept key follows RFC 6455") {
  CHECK(websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
