// PROTOTYPE (A/B measurement only): ns per client frame for whichever ws_parser this build
// has (ours, or libwslay with -DCHAT_WS_WSLAY=ON). Stream: masked text frames shaped like
// chat-loadgen's sends, fed in 64 KiB reads (copied from the prepared stream first, since
// the parser unmasks in place; the copy is timed too and is the same for both).
#include "net/ws_frame.hpp"
#include "tests/support/client_frames.hpp"

#include <chrono>
#include <cstdio>
#include <string>

using namespace chat::net;

struct counter : ws_parser::handler {
  uint64_t messages = 0, bytes = 0;
  void on_message(ws_opcode, std::string_view p) override { ++messages; bytes += p.size(); }
  void on_ping(std::string_view) override {}
  void on_pong(std::string_view) override {}
  void on_close(uint16_t, std::string_view) override {}
  void on_protocol_error(uint16_t, const char*) override {}
};

int main(int argc, char** argv) {
  size_t text_bytes = argc > 1 ? std::stoul(argv[1]) : 64;
  const size_t frames = 200000;
  std::string stream;
  for (size_t i = 0; i < frames; ++i)
    stream += chat::test::client_frame(
      0x81, "{\"op\":\"send\",\"room\":\"r" + std::to_string(i % 100) + "\",\"text\":\""
              + std::string(text_bytes, 'x') + "\",\"cid\":\"c" + std::to_string(i) + "\"}");
  double best = 1e18;
  std::string buf(65536, '\0');
  for (int round = 0; round < 7; ++round) {
    ws_parser p(65536);
    counter c;
    auto t0 = std::chrono::steady_clock::now();
    for (size_t pos = 0; pos < stream.size(); pos += buf.size()) {
      size_t n = std::min(buf.size(), stream.size() - pos);
      buf.assign(stream, pos, n);
      p.feed(buf.data(), n, c);
    }
    auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    if (c.messages != frames)
      std::printf("lost messages: %llu\n", (unsigned long long)c.messages);
    best = std::min(best, ns / double(frames));
  }
  std::printf("%zu frames of %zu bytes: best of 7: %.1f ns per frame\n", frames,
              stream.size() / frames, best);
}
