// Unit: WebSocket framing — header sizes, masking, fragmentation, control frames, and the
// close code RFC 6455 names for every violation: 1002 (protocol), 1007 (invalid UTF-8),
// 1009 (message over the bound, refused from its header); nothing is parsed or kept after.
#include "net/ws_frame.hpp"
#include "net/server.hpp"
#include "tests/support/client_frames.hpp"

#include <catch2/catch.hpp>

using namespace chat::net;
using namespace chat::test;

namespace {

struct recorder : ws_parser::handler {
  std::vector<std::pair<ws_opcode, std::string>> messages;
  std::vector<std::string> pings, pongs;
  int closes = 0;
  uint16_t close_code = 0;
  std::string close_reason;
  uint16_t error = 0;
  int after_stop = 0; // callbacks after a close or an error: must stay 0

  bool stopped() const { return closes > 0 || error != 0; }
  void on_message(ws_opcode op, std::string_view p) override {
    after_stop += stopped();
    messages.emplace_back(op, p);
  }
  void on_ping(std::string_view p) override {
    after_stop += stopped();
    pings.emplace_back(p);
  }
  void on_pong(std::string_view p) override {
    after_stop += stopped();
    pongs.emplace_back(p);
  }
  void on_close(uint16_t code, std::string_view reason) override {
    after_stop += stopped();
    ++closes;
    close_code = code;
    close_reason = reason;
  }
  void on_protocol_error(uint16_t code, const char*) override {
    after_stop += stopped();
    error = code;
  }
};

// Feeds `data` in pieces of `chunk` bytes from a fresh buffer each time, as a session
// reads; returns the bytes consumed.
size_t feed_all(ws_parser& p, const std::string& data, recorder& r, size_t chunk,
                int64_t now = 0) {
  size_t total = 0;
  for (size_t pos = 0; pos < data.size(); pos += chunk) {
    std::string piece = data.substr(pos, chunk);
    total += p.feed(piece.data(), piece.size(), r, now);
  }
  return total;
}

// Parses `stream` whole, in 3-byte pieces and byte by byte; each must end the same.
uint16_t error_for(const std::string& stream, uint64_t bound = 1000) {
  uint16_t code = 0;
  for (size_t chunk : {stream.size(), size_t(3), size_t(1)}) {
    ws_parser p(bound);
    recorder r;
    feed_all(p, stream, r, chunk);
    CHECK(r.after_stop == 0);
    CHECK(p.stopped() == (r.error != 0 || r.closes > 0));
    CHECK(p.failed() == (r.error != 0));
    if (chunk == stream.size())
      code = r.error;
    else
      CHECK(r.error == code);
  }
  return code;
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

// A reason may hold client text (a Socket.IO namespace in a protocol error): cut to the
// 123 bytes a close frame holds, it must still end between two characters (RFC 6455 5.5.1:
// the reason is UTF-8, and browsers fail the connection on one that is not).
TEST_CASE("close reasons are cut to 123 bytes on a character boundary") {
  for (size_t ascii = 118; ascii <= 123; ++ascii) {
    std::string reason = std::string(ascii, 'a') + "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    auto close = encode_close(1002, reason);
    REQUIRE(uint8_t(close[1]) >= 2);
    std::string_view text = std::string_view(close).substr(4);
    CHECK(text.size() == size_t(uint8_t(close[1])) - 2);
    CHECK(text.size() <= 123);
    CHECK(text.size() >= 120);
    CHECK(utf8_valid(text));
    CHECK(reason.compare(0, text.size(), text) == 0);
  }
}

TEST_CASE("masked frames parse whole, in pieces or byte by byte") {
  std::string stream = client_frame(0x81, "hello") + client_frame(0x89, "p")
                       + client_frame(0x81, std::string(1000, 'z'))
                       + client_frame(0x82, std::string(70000, 'b')) + client_frame(0x8A, "q")
                       + client_frame(0x81, "");
  for (size_t chunk : {size_t(1), size_t(7), size_t(4096), stream.size()}) {
    ws_parser p(100000);
    recorder r;
    CHECK(feed_all(p, stream, r, chunk) == stream.size());
    REQUIRE(r.messages.size() == 4);
    CHECK(r.messages[0].second == "hello");
    CHECK(r.messages[1].second == std::string(1000, 'z'));
    CHECK(r.messages[2].first == ws_opcode::binary);
    CHECK(r.messages[2].second == std::string(70000, 'b'));
    CHECK(r.messages[3].second.empty());
    CHECK(r.pings == std::vector<std::string>{"p"});
    CHECK(r.pongs == std::vector<std::string>{"q"});
    CHECK(p.buffered() == 0);
    CHECK(p.incomplete_since() == -1);
  }
}

TEST_CASE("fragmented messages are joined, with control frames in between") {
  std::string stream = client_frame(0x01, "hel") + client_frame(0x89, "mid")
                       + client_frame(0x00, "lo ") + client_frame(0x8A, "")
                       + client_frame(0x00, "") + client_frame(0x80, "world");
  for (size_t chunk : {size_t(1), size_t(3), stream.size()}) {
    ws_parser p(1000);
    recorder r;
    CHECK(feed_all(p, stream, r, chunk) == stream.size());
    REQUIRE(r.messages.size() == 1);
    CHECK(r.messages[0].first == ws_opcode::text);
    CHECK(r.messages[0].second == "hello world");
    CHECK(r.pings == std::vector<std::string>{"mid"});
    CHECK(r.pongs.size() == 1);
    CHECK(r.error == 0);
  }
}

TEST_CASE("a continuation whose 64-bit length would wrap the message size is refused") {
  // The attack that overflowed the heap: a 1-byte first fragment, then 2^64-1 more bytes.
  std::string stream = client_frame(0x01, "a") + frame_header(0x80, UINT64_MAX)
                       + std::string(32, 'z');
  CHECK(error_for(stream) == 1002); // the top bit of a 64-bit length is set
  // Just below: 2^63-1 more bytes is a message over the bound, refused from its header.
  std::string big = client_frame(0x01, "a") + frame_header(0x80, INT64_MAX) + "zz";
  CHECK(error_for(big) == 1009);
  ws_parser p(1000);
  recorder r;
  auto consumed = feed_all(p, big, r, big.size());
  CHECK(consumed == big.size() - 2); // nothing of the payload was taken
  CHECK(p.buffered() == 0);
  CHECK(r.messages.empty());
}

TEST_CASE("a 64-bit length with its top bit set is a protocol error") {
  CHECK(error_for(frame_header(0x82, uint64_t(1) << 63)) == 1002);
  CHECK(error_for(frame_header(0x81, UINT64_MAX)) == 1002);
}

TEST_CASE("a message over the bound is refused with 1009 from its header alone") {
  CHECK(error_for(frame_header(0x81, 1001)) == 1009);
  CHECK(error_for(frame_header(0x82, 70000)) == 1009);
  // Across fragments: 600 + 400 is the bound exactly, one byte more is over it.
  ws_parser ok(1000);
  recorder r;
  auto exact = client_frame(0x01, std::string(600, 'y')) + client_frame(0x80, std::string(400, 'y'));
  feed_all(ok, exact, r, 50);
  REQUIRE(r.messages.size() == 1);
  CHECK(r.messages[0].second.size() == 1000);
  auto over = client_frame(0x01, std::string(600, 'y')) + client_frame(0x00, std::string(400, 'y'))
              + frame_header(0x80, 1);
  CHECK(error_for(over) == 1009);
  ws_parser p(1000);
  recorder r2;
  feed_all(p, over, r2, 50);
  CHECK(p.buffered() == 0); // the fragments gathered so far are released
}

TEST_CASE("fragments are held only up to the bound while they arrive") {
  ws_parser p(1000);
  recorder r;
  auto first = client_frame(0x01, std::string(999, 'a'));
  feed_all(p, first, r, 100);
  CHECK(p.buffered() == 999);
  auto header = frame_header(0x00, 2);
  feed_all(p, header, r, 1);
  CHECK(r.error == 1009);
  CHECK(p.buffered() == 0);
}

TEST_CASE("text must be valid UTF-8, also across fragments") {
  // "é" is C3 A9; the euro sign E2 82 AC; U+1F600 is F0 9F 98 80.
  SECTION("valid, with code points cut at fragment boundaries") {
    std::string stream = client_frame(0x01, "caf\xc3") + client_frame(0x00, "\xa9 \xe2")
                         + client_frame(0x89, "") + client_frame(0x00, "\x82")
                         + client_frame(0x00, "\xac\xf0\x9f") + client_frame(0x80, "\x98\x80");
    for (size_t chunk : {size_t(1), size_t(5), stream.size()}) {
      ws_parser p(1000);
      recorder r;
      feed_all(p, stream, r, chunk);
      CHECK(r.error == 0);
      REQUIRE(r.messages.size() == 1);
      CHECK(r.messages[0].second == "caf\xc3\xa9 \xe2\x82\xac\xf0\x9f\x98\x80");
    }
  }
  SECTION("invalid in one frame") {
    CHECK(error_for(client_frame(0x81, "\xff")) == 1007);
    CHECK(error_for(client_frame(0x81, "ok \xc0\x80")) == 1007);         // overlong NUL
    CHECK(error_for(client_frame(0x81, "\xed\xa0\x80")) == 1007);        // surrogate D800
    CHECK(error_for(client_frame(0x81, "\xf4\x90\x80\x80")) == 1007);    // above U+10FFFF
    CHECK(error_for(client_frame(0x81, "\xe2\x82")) == 1007);            // cut at the end
    CHECK(error_for(client_frame(0x81, std::string(100, 'a') + "\x80")) == 1007);
  }
  SECTION("invalid across fragments") {
    // A lead byte whose continuation in the next fragment is not one.
    CHECK(error_for(client_frame(0x01, "\xce") + client_frame(0x80, "A")) == 1007);
    // The message ends inside a sequence.
    CHECK(error_for(client_frame(0x01, "ok") + client_frame(0x80, "\xf0\x9f\x98")) == 1007);
    // Split surrogate: ED | A0 80.
    CHECK(error_for(client_frame(0x01, "\xed") + client_frame(0x80, "\xa0\x80")) == 1007);
  }
  SECTION("found in the first fragment, before the message ends") {
    ws_parser p(1000);
    recorder r;
    auto first = client_frame(0x01, "bad \xff here");
    feed_all(p, first, r, first.size());
    CHECK(r.error == 1007);
  }
  SECTION("binary messages are not checked") {
    ws_parser p(1000);
    recorder r;
    auto stream = client_frame(0x82, "\xff\xfe");
    feed_all(p, stream, r, 1);
    CHECK(r.error == 0);
    REQUIRE(r.messages.size() == 1);
  }
}

TEST_CASE("close frames: codes that may be sent are reported, the others are 1002") {
  for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                        3000, 3999, 4000, 4999}) {
    ws_parser p(1000);
    recorder r;
    auto stream = client_frame(0x88, close_payload(code, "bye \xc3\xa9")) + client_frame(0x81, "x");
    auto consumed = feed_all(p, stream, r, stream.size());
    CHECK(r.error == 0);
    CHECK(r.closes == 1);
    CHECK(r.close_code == code);
    CHECK(r.close_reason == "bye \xc3\xa9");
    CHECK(r.messages.empty()); // nothing after a close frame is parsed
    CHECK(consumed == stream.size() - 7);
    CHECK(p.stopped());
  }
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535})
    CHECK(error_for(client_frame(0x88, close_payload(code))) == 1002);
  CHECK(error_for(client_frame(0x88, std::string(1, '\x03'))) == 1002);       // 1-byte payload
  CHECK(error_for(client_frame(0x88, close_payload(1000, "\xff"))) == 1002);  // reason not UTF-8
  CHECK(error_for(client_frame(0x88, close_payload(1000, "\xe2\x82"))) == 1002);
  ws_parser p(1000);
  recorder r;
  auto empty = client_frame(0x88, "");
  feed_all(p, empty, r, 1);
  CHECK(r.closes == 1);
  CHECK(r.close_code == 1005); // no code given
}

TEST_CASE("protocol violations are 1002") {
  std::vector<std::string> cases = {
    client_frame(0x81, "x", false),                     // unmasked data frame
    client_frame(0x89, "x", false),                     // unmasked control frame
    client_frame(0x09, "x"),                            // fragmented ping
    client_frame(0x08, close_payload(1000)),            // fragmented close
    client_frame(0x89, std::string(126, 'p')),          // control frame over 125 bytes
    client_frame(0x8A, std::string(200, 'p')),
    client_frame(0x80, "x"),                            // continuation without start
    client_frame(0x00, "x"),
    client_frame(0x01, "a") + client_frame(0x81, "b"),  // new message mid-fragment
    client_frame(0x01, "a") + client_frame(0x02, "b"),
    client_frame(0x81, "ok") + client_frame(0x80, "x"), // continuation after a whole message
  };
  for (uint8_t op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15})
    cases.push_back(client_frame(uint8_t(0x80 | op), "x")); // reserved opcodes
  for (uint8_t rsv : {0x40, 0x20, 0x10, 0x70})
    cases.push_back(client_frame(uint8_t(0x81 | rsv), "x")); // RSV bits, no extension
  for (auto& c : cases)
    CHECK(error_for(c) == 1002);
}

TEST_CASE("after a violation nothing more is parsed, consumed or kept") {
  ws_parser p(100000);
  recorder r;
  auto good = client_frame(0x01, std::string(5000, 'a'));
  std::string stream = good + client_frame(0xC1, "x") + client_frame(0x81, "later");
  auto consumed = p.feed(stream.data(), stream.size(), r);
  CHECK(r.error == 1002);
  CHECK(consumed > good.size());      // up to the bad frame's header, not past it
  CHECK(consumed <= good.size() + 6);
  CHECK(p.buffered() == 0);           // the fragment gathered before is released
  auto more = client_frame(0x81, "more") + std::string(70000, 'x');
  CHECK(p.feed(more.data(), more.size(), r) == 0);
  CHECK(p.buffered() == 0);
  CHECK(r.messages.empty());
  CHECK(r.after_stop == 0);
}

TEST_CASE("incomplete_since stamps the feed where an incomplete frame or message began") {
  ws_parser p(100000);
  recorder r;
  CHECK(p.incomplete_since() == -1);
  auto whole = client_frame(0x81, std::string(300, 'a'));
  p.feed(whole.data(), 100, r, 5);
  CHECK(p.incomplete_since() == 5);
  p.feed(whole.data() + 100, whole.size() - 100, r, 9);
  CHECK(p.incomplete_since() == -1);
  // A frame that completes while the next begins: the stamp is that of the new one.
  auto two = client_frame(0x81, "one") + client_frame(0x81, "two");
  p.feed(two.data(), 5, r, 10);
  CHECK(p.incomplete_since() == 10);
  p.feed(two.data() + 5, two.size() - 5, r, 11);
  CHECK(p.incomplete_since() == -1);
  // A fragmented message stays incomplete until its final frame, pings or not.
  auto first = client_frame(0x01, "a");
  auto ping = client_frame(0x89, "");
  auto last = client_frame(0x80, "b");
  p.feed(first.data(), first.size(), r, 20);
  CHECK(p.incomplete_since() == 20);
  p.feed(ping.data(), ping.size(), r, 21);
  CHECK(p.incomplete_since() == 20);
  p.feed(last.data(), last.size(), r, 22);
  CHECK(p.incomplete_since() == -1);
  CHECK(r.messages.size() == 4);
}

TEST_CASE("the handshake accept key follows RFC 6455") {
  CHECK(websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
