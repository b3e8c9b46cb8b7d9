// End-to-end: bad client input gets an error frame with the right code, the connection
// stays usable, and the node keeps serving everyone else. What breaks the WebSocket layer
// itself (invalid UTF-8, an oversize message) closes the connection with its RFC 6455 code
// (more of those in rfc6455_test, floods in flood_test).
#include "support/node_process.hpp"
#include "support/raw_ws.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

using namespace chat::test;

namespace {

std::string error_code_for(ws_client& c, const std::string& frame) {
  c.send(frame);
  auto f = c.next_op("error");
  CHECK(!f.str("message").empty());
  return f.str("code");
}

} // namespace

TEST_CASE("each kind of bad input gets an error frame and the node keeps serving") {
  node_process node({"--storage.backend=memory"});
  ws_client bystander(node.port(), "user=bystander");
  bystander.join("calm");

  ws_client c(node.port(), "user=mallory");
  CHECK(error_code_for(c, "{not json") == "bad_request");
  CHECK(error_code_for(c, "[1,2,3]") == "bad_request");
  CHECK(error_code_for(c, "\"just a string\"") == "bad_request");
  CHECK(error_code_for(c, R"({"op":"explode"})") == "bad_request");
  CHECK(error_code_for(c, R"({"room":"x"})") == "bad_request");
  CHECK(error_code_for(c, R"({"op":42})") == "bad_request");
  CHECK(error_code_for(c, R"({"op":"join"})") == "bad_request");
  CHECK(error_code_for(c, R"({"op":"join","room":7})") == "bad_request");
  CHECK(error_code_for(c, R"({"op":"send","room":"calm","text":5,"cid":"1"})") == "bad_request");
  CHECK(error_code_for(c, R"({"op":"send","room":"calm","text":"hi"})") == "bad_request");
  CHECK(error_code_for(c, R"({"op":"history","room":"calm","limit":-1})") == "bad_request");
  CHECK(error_code_for(c, R"({"op":"join","room":"x","rid":{"a":1}})") == "bad_request");
  CHECK(error_code_for(c, R"({"op":"send","room":"calm","text":"hi","cid":"1"})") == "not_member");
  CHECK(error_code_for(c, R"({"op":"typing","room":"calm"})") == "not_member");

  c.send_binary(std::string("\x00\x01\x02", 3));
  CHECK(c.next_op("error").str("code") == "bad_request");

  // The rid of a bad frame comes back with its error.
  c.send(R"({"op":"explode","rid":"q1"})");
  auto with_rid = c.next_op("error");
  CHECK(with_rid.str("rid") == "q1");

  // Invalid UTF-8 in a text frame is a WebSocket violation: close 1007 (RFC 6455 8.1).
  raw_ws bad_text(node.port(), "user=mallory");
  bad_text.write(client_frame(
    0x81, "{\"op\":\"send\",\"room\":\"calm\",\"text\":\"\xff\xfe\",\"cid\":\"1\"}"));
  CHECK(bad_text.next_close() == 1007);
  CHECK(bad_text.ended_within());

  // A frame over net.max-frame-bytes (64 KiB): close 1009 (RFC 6455 7.4.1), decided from
  // its header; the node reads the 8 MiB only to drop them.
  raw_ws big(node.port(), "user=mallory");
  big.write(client_frame(0x81, "{\"op\":\"send\",\"room\":\"calm\",\"cid\":\"big\",\"text\":\""
                                 + std::string(8 << 20, 'a') + "\"}"));
  CHECK(big.next_close(std::chrono::milliseconds(20000)) == 1009);
  CHECK(big.ended_within());

  // Still usable after all that.
  c.send(R"({"op":"ping","rid":2})");
  CHECK(c.next_op("pong").at("rid").GetInt() == 2);
  c.join("calm");
  c.send(send_frame("calm", "sorry", "s1"));
  CHECK(c.next_op("ack").u64("seq") == 1);

  // And everyone else was served throughout.
  auto m = bystander.next_op("msg");
  CHECK(m.str("text") == "sorry");
  bystander.send(send_frame("calm", "ok", "b1"));
  CHECK(bystander.next_op("ack").u64("seq") == 2);
}

TEST_CASE("joining more rooms than allowed is refused") {
  node_process node({"--storage.backend=memory", "--chat.max-rooms-per-conn=2"});
  ws_client c(node.port(), "user=greedy");
  c.join("a");
  c.join("b");
  c.send(join_frame("c"));
  CHECK(c.next_op("error").str("code") == "forbidden");
  // The refused join left no membership behind.
  c.send(send_frame("c", "hello", "c1"));
  CHECK(c.next_op("error").str("code") == "not_member");
}
