// End-to-end: every RFC 6455 edge case gets its close code from a live node over a raw
// socket (frames written by hand), then the node ends the TCP connection, and it keeps
// serving everyone else. Covers the frame that used to overflow the heap, invalid UTF-8
// (1007), close frames, control frame rules, reserved bits and opcodes, oversize messages
// (1009) and frames that never complete (net.frame-timeout, 1008).
#include "support/http_get.hpp"
#include "support/node_process.hpp"
#include "support/raw_ws.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

#include <regex>
#include <thread>

using namespace chat::test;
using ms = std::chrono::milliseconds;

namespace {

// Writes `bytes` on a fresh connection; returns the close code the node answers, after
// checking that the node then ended the connection.
uint16_t close_code_for(const node_process& node, const std::string& bytes) {
  raw_ws c(node.port(), "user=prober");
  c.write(bytes);
  uint16_t code = c.next_close();
  CHECK(c.ended_within(ms(5000)));
  return code;
}

std::string text(std::string_view payload) { return client_frame(0x81, payload); }

// The node still answers a plain client.
void still_serving(const node_process& node) {
  ws_client c(node.port(), "user=check");
  c.send(R"({"op":"ping","rid":"alive"})");
  CHECK(c.next_op("pong").str("rid") == "alive");
}

uint64_t metric(const node_process& node, const std::string& series) {
  auto body = http_get(node.admin_port(), "/metrics").body;
  std::smatch m;
  std::regex line("(^|\n)" + std::regex_replace(series, std::regex(R"([{}\\"])"), R"(\$&)")
                  + " ([0-9]+)");
  if (!std::regex_search(body, m, line))
    FAIL("no metric " << series);
  return std::stoull(m[2].str());
}

} // namespace

TEST_CASE("the continuation that overflowed the heap is refused; the node lives on") {
  node_process node({"--storage.backend=memory"});
  ws_client bystander(node.port(), "user=bystander");
  bystander.join("calm");
  // A 1-byte non-final text frame, then a continuation announcing 2^64-1 bytes.
  CHECK(close_code_for(node, client_frame(0x01, "a") + frame_header(0x80, UINT64_MAX)
                               + std::string(64, 'z'))
        == 1002);
  // The top bit clear (2^63-1): a message over the bound, refused from its header.
  CHECK(close_code_for(node, client_frame(0x01, "a") + frame_header(0x80, INT64_MAX)
                               + std::string(64, 'z'))
        == 1009);
  CHECK(close_code_for(node, frame_header(0x82, uint64_t(1) << 63)) == 1002);
  bystander.send(send_frame("calm", "still here", "c1"));
  CHECK(bystander.next_op("ack").u64("seq") == 1);
  still_serving(node);
  CHECK(metric(node, R"(chat_ws_violation_closes_total{code="1002",cause="protocol"})") == 2);
  CHECK(metric(node, R"(chat_ws_violation_closes_total{code="1009",cause="too_big"})") == 1);
}

TEST_CASE("invalid UTF-8 in a text message is closed with 1007, also across fragments") {
  node_process node({"--storage.backend=memory"});
  CHECK(close_code_for(node, text(R"({"op":"ping","rid":")" "\xff" R"("})")) == 1007);
  CHECK(close_code_for(node, text("\xed\xa0\x80")) == 1007);          // a surrogate
  CHECK(close_code_for(node, text("\xc0\xaf")) == 1007);              // overlong
  CHECK(close_code_for(node, client_frame(0x01, "{\"op\":\"ping\",\"rid\":\"\xce")
                               + client_frame(0x80, "A\"}"))
        == 1007); // lead byte, then no continuation byte in the next fragment
  CHECK(close_code_for(node, client_frame(0x01, R"({"op":"ping"})")
                               + client_frame(0x80, "\xe2\x82"))
        == 1007); // ends inside a code point
  CHECK(metric(node, R"(chat_ws_violation_closes_total{code="1007",cause="invalid_utf8"})") == 5);

  // A code point cut at a fragment boundary and completed by the next fragment is valid,
  // and a ping between the fragments is answered.
  raw_ws c(node.port(), "user=fragments");
  c.write(client_frame(0x01, "{\"op\":\"ping\",\"rid\":\"caf\xc3") + client_frame(0x89, "between")
          + client_frame(0x00, "\xa9 \xf0\x9f") + client_frame(0x80, "\x98\x80\"}"));
  auto pong = c.next();
  CHECK(pong.opcode == 10);
  CHECK(pong.payload == "between");
  auto reply = c.next();
  CHECK(reply.opcode == 1);
  CHECK(reply.payload == "{\"op\":\"pong\",\"rid\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}");
}

TEST_CASE("close frames: valid codes are echoed, the others are answered with 1002") {
  node_process node({"--storage.backend=memory"});
  for (uint16_t code : {1000, 1001, 1003, 1011, 3000, 4999}) {
    INFO("code " << code);
    CHECK(close_code_for(node, client_frame(0x88, close_payload(code, "bye \xc3\xa9"))) == code);
  }
  CHECK(close_code_for(node, client_frame(0x88, "")) == 1000); // no code: a normal close
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    INFO("code " << code);
    CHECK(close_code_for(node, client_frame(0x88, close_payload(code))) == 1002);
  }
  CHECK(close_code_for(node, client_frame(0x88, std::string(1, '\x03'))) == 1002);
  CHECK(close_code_for(node, client_frame(0x88, close_payload(1000, "\xff\xfe"))) == 1002);
  still_serving(node);
}

TEST_CASE("frame-level violations are closed with 1002") {
  node_process node({"--storage.backend=memory"});
  struct violation {
    const char* what;
    std::string bytes;
  };
  std::vector<violation> cases = {
    {"fragmented ping", client_frame(0x09, "p")},
    {"fragmented close", client_frame(0x08, close_payload(1000))},
    {"ping over 125 bytes", client_frame(0x89, std::string(126, 'p'))},
    {"pong over 125 bytes", client_frame(0x8A, std::string(1000, 'p'))},
    {"reserved opcode 3", client_frame(0x83, "x")},
    {"reserved opcode 7", client_frame(0x87, "x")},
    {"reserved control opcode 11", client_frame(0x8B, "x")},
    {"reserved control opcode 15", client_frame(0x8F, "x")},
    {"RSV1", client_frame(0xC1, R"({"op":"ping"})")},
    {"RSV2", client_frame(0xA1, R"({"op":"ping"})")},
    {"RSV3", client_frame(0x91, R"({"op":"ping"})")},
    {"continuation without a start", client_frame(0x80, R"({"op":"ping"})")},
    {"new data frame inside a fragmented message",
     client_frame(0x01, R"({"op":)") + client_frame(0x81, R"({"op":"ping"})")},
    {"unmasked text frame", client_frame(0x81, R"({"op":"ping"})", false)},
    {"unmasked ping", client_frame(0x89, "", false)},
  };
  for (auto& v : cases) {
    INFO(v.what);
    CHECK(close_code_for(node, v.bytes) == 1002);
  }
  CHECK(metric(node, R"(chat_ws_violation_closes_total{code="1002",cause="protocol"})")
        == cases.size());
  still_serving(node);
}

TEST_CASE("after a violation the node reads nothing more and ends the connection") {
  node_process node({"--storage.backend=memory"});
  raw_ws c(node.port(), "user=garbage");
  // The violation closes at once (replies to frames before it may be lost); the frame
  // after it is never parsed.
  c.write(text(R"({"op":"ping","rid":"before"})") + client_frame(0x83, "x")
          + text(R"({"op":"ping","rid":"after"})"));
  for (;;) {
    auto f = c.next();
    CHECK(f.payload.find("after") == std::string::npos);
    if (f.opcode == 8) {
      CHECK(f.close_code() == 1002);
      break;
    }
  }
  // The node drops what still comes and ends the connection even while we keep writing.
  std::string junk(256 << 10, '\x81');
  for (int i = 0; i < 4 && c.write(junk); ++i) {
  }
  CHECK(c.ended_within(ms(6000)));
  still_serving(node);
}

TEST_CASE("a message over net.max-frame-bytes is closed with 1009, whole or in fragments") {
  node_process node({"--storage.backend=memory", "--net.max-frame-bytes=1024"});
  // Refused from its header: the payload is never sent.
  CHECK(close_code_for(node, frame_header(0x81, 1025)) == 1009);
  CHECK(close_code_for(node, frame_header(0x82, 8 << 20)) == 1009);
  CHECK(close_code_for(node, client_frame(0x01, std::string(600, ' '))
                               + client_frame(0x00, std::string(424, ' '))
                               + frame_header(0x80, 1))
        == 1009);
  // The bound itself passes, in fragments too.
  raw_ws c(node.port(), "user=exact");
  std::string ping = R"({"op":"ping","rid":"full"})";
  std::string padded = ping.substr(0, ping.size() - 1) + std::string(1024 - ping.size(), ' ') + "}";
  c.write(client_frame(0x01, padded.substr(0, 500)) + client_frame(0x80, padded.substr(500)));
  CHECK(c.next().payload == R"({"op":"pong","rid":"full"})");
}

TEST_CASE("a frame or fragmented message that does not complete in net.frame-timeout is closed") {
  node_process node({"--storage.backend=memory", "--net.frame-timeout=1s"});
  raw_ws stalled(node.port(), "user=stalled");
  stalled.write(frame_header(0x81, 1000) + std::string(500, 'x'));
  raw_ws fragments(node.port(), "user=fragments");
  fragments.write(client_frame(0x01, R"({"op":)"));
  raw_ws steady(node.port(), "user=steady");
  auto start = std::chrono::steady_clock::now();
  // Complete frames keep coming on `steady` and on `fragments` (pings between fragments do
  // not complete the message): only the incomplete ones are closed.
  while (std::chrono::steady_clock::now() - start < ms(2500)) {
    steady.write(client_frame(0x89, "tick"));
    CHECK(steady.next().payload == "tick");
    fragments.write(client_frame(0x89, "tick"));
    std::this_thread::sleep_for(ms(250));
  }
  CHECK(stalled.next_close(ms(5000)) == 1008);
  CHECK(stalled.ended_within(ms(5000)));
  CHECK(fragments.next_close(ms(5000)) == 1008);
  CHECK(fragments.ended_within(ms(5000)));
  steady.write(text(R"({"op":"ping","rid":"ok"})"));
  CHECK(steady.next().payload == R"({"op":"pong","rid":"ok"})");
  CHECK(metric(node, R"(chat_ws_violation_closes_total{code="1008",cause="frame_timeout"})") == 2);
}

TEST_CASE("frames sent with the upgrade request are parsed like any other") {
  node_process node({"--storage.backend=memory"}); // net.frame-timeout 10s
  std::string rest = text(R"({"op":"ping","rid":"second"})");
  raw_ws c(node.port(), "user=eager",
           text(R"({"op":"ping","rid":"first"})") + rest.substr(0, 10));
  CHECK(c.next().payload == R"({"op":"pong","rid":"first"})");
  // The incomplete frame's clock starts with the upgrade, not at 0: two of the node's
  // one-second ticks later the connection is still open and the frame completes.
  std::this_thread::sleep_for(ms(2500));
  c.write(rest.substr(10));
  CHECK(c.next().payload == R"({"op":"pong","rid":"second"})");
}
