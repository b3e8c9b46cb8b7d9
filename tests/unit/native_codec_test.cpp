// Unit: the native protocol codec — every op decodes, every error is reported with the
// right code, and every server frame encodes to a well-formed WebSocket text frame.
#include "net/native_codec.hpp"
#include "net/ws_frame.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

using namespace chat;
using chat::net::decode_native;

namespace {

// Parses the JSON payload of an encoded (unmasked, single) server frame.
rapidjson::Document payload_of(const frame_ptr& f) {
  REQUIRE(f->size() >= 2);
  REQUIRE(uint8_t((*f)[0]) == 0x81);
  size_t len = uint8_t((*f)[1]) & 0x7f, header = 2;
  if (len == 126) {
    len = (size_t(uint8_t((*f)[2])) << 8) | uint8_t((*f)[3]);
    header = 4;
  }
  REQUIRE(f->size() == header + len);
  rapidjson::Document d;
  d.Parse(f->data() + header, len);
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

} // namespace

TEST_CASE("every client op decodes") {
  auto join = decode_native(R"({"op":"join","room":"r","since":5,"rid":"a"})");
  CHECK(join.kind == op::join);
  CHECK(join.room == "r");
  CHECK(join.has_seq);
  CHECK(join.seq == 5);
  CHECK(join.rid == "\"a\"");
  CHECK(decode_native(R"({"op":"join","room":"r"})").has_seq == false);
  CHECK(decode_native(R"({"op":"leave","room":"r"})").kind == op::leave);
  auto send = decode_native(R"({"op":"send","room":"r","text":"hé","cid":"c","ack":"persisted"})");
  CHECK(send.kind == op::send);
  CHECK(send.text == "hé");
  CHECK(send.cid == "c");
  CHECK(send.ack_given);
  CHECK(send.ack_persisted);
  CHECK(decode_native(R"({"op":"send","room":"r","text":"t","cid":12})").cid == "12");
  auto hist = decode_native(R"({"op":"history","room":"r","before":9,"limit":900})");
  CHECK(hist.kind == op::history);
  CHECK(hist.seq == 9);
  CHECK(hist.limit == 500);
  CHECK(decode_native(R"({"op":"history","room":"r"})").limit == 50);
  CHECK(decode_native(R"({"op":"typing","room":"r"})").kind == op::typing);
  auto read = decode_native(R"({"op":"read","room":"r","seq":3})");
  CHECK(read.kind == op::read);
  CHECK(read.seq == 3);
  auto pres = decode_native(R"({"op":"presence","users":["a","b"]})");
  CHECK(pres.kind == op::presence);
  CHECK(pres.users == std::vector<std::string>{"a", "b"});
  auto ping = decode_native(R"({"op":"ping","rid":17,"extra":{"ignored":true}})");
  CHECK(ping.kind == op::ping);
  CHECK(ping.rid == "17");
}

TEST_CASE("bad frames decode to invalid commands with a message") {
  const char* bad[] = {
    "", "{", "[]", "null", "42", R"({"op":1})", R"({"nop":"join"})", R"({"op":"fly"})",
    R"({"op":"join"})", R"({"op":"join","room":""})", R"({"op":"join","room":1})",
    R"({"op":"join","room":"r","since":-1})", R"({"op":"join","room":"r","since":"1"})",
    R"({"op":"send","room":"r","cid":"c"})", R"({"op":"send","room":"r","text":"t"})",
    R"({"op":"send","room":"r","text":"t","cid":""})", R"({"op":"send","room":"r","text":"t","cid":1.5})",
    R"({"op":"send","room":"r","text":"t","cid":"c","ack":"never"})",
    R"({"op":"history","room":"r","limit":0})", R"({"op":"read","room":"r"})",
    R"({"op":"presence"})", R"({"op":"presence","users":[1]})", R"({"op":"ping","rid":[1]})",
    "{\"op\":\"ping\"} trailing", "{\"op\":\"send\",\"room\":\"r\",\"text\":\"\xc3\x28\",\"cid\":\"c\"}",
  };
  for (auto* text : bad) {
    INFO(text);
    auto c = decode_native(text);
    CHECK(c.kind == op::invalid);
    CHECK(c.err == error_code::bad_request);
    CHECK_FALSE(c.err_message.empty());
  }
  CHECK(decode_native(std::string(129, 'x')).kind == op::invalid);
  auto with_rid = decode_native(R"({"op":"fly","rid":"k"})");
  CHECK(with_rid.rid == "\"k\"");
}

TEST_CASE("server frames encode as text frames with the protocol's fields") {
  auto& enc = net::native_encoder::instance();
  chat_message m{"room", 7, "alice", "c1", "hi \"there\"", 1234};
  auto msg = payload_of(enc.msg(m));
  CHECK(msg["op"] == "msg");
  CHECK(msg["room"] == "room");
  CHECK(msg["seq"].GetUint64() == 7);
  CHECK(msg["from"] == "alice");
  CHECK(msg["text"] == "hi \"there\"");
  CHECK(msg["ts"].GetInt64() == 1234);
  CHECK(msg["cid"] == "c1");

  auto ack = payload_of(enc.ack("room", "c1", 7, 99, "\"r\""));
  CHECK(ack["op"] == "ack");
  CHECK(ack["room"] == "room");
  CHECK(ack["cid"] == "c1");
  CHECK(ack["seq"].GetUint64() == 7);
  CHECK(ack["ts"].GetInt64() == 99);
  CHECK(ack["rid"] == "r");
  auto joined = payload_of(enc.joined("room", 3, "5"));
  CHECK(joined["op"] == "joined");
  CHECK(joined["room"] == "room");
  CHECK(joined["seq"].GetUint64() == 3);
  CHECK(joined["rid"].GetInt() == 5);
  auto left = payload_of(enc.left("room", ""));
  CHECK(left["op"] == "left");
  CHECK(left["room"] == "room");
  CHECK_FALSE(left.HasMember("rid"));
  auto member = payload_of(enc.member("room", "bob", false));
  CHECK(member["op"] == "member");
  CHECK(member["room"] == "room");
  CHECK(member["user"] == "bob");
  CHECK(member["event"] == "leave");
  auto presence = payload_of(enc.presence("bob", true));
  CHECK(presence["op"] == "presence");
  CHECK(presence["user"] == "bob");
  CHECK(presence["status"] == "online");
  auto reply = payload_of(enc.presence_reply({{"a", true}, {"b", false}}, ""));
  CHECK(reply["users"]["a"] == "online");
  CHECK(reply["users"]["b"] == "offline");
  auto typing = payload_of(enc.typing("room", "bob"));
  CHECK(typing["op"] == "typing");
  CHECK(typing["room"] == "room");
  CHECK(typing["user"] == "bob");
  auto read = payload_of(enc.read("room", "bob", 4));
  CHECK(read["op"] == "read");
  CHECK(read["room"] == "room");
  CHECK(read["user"] == "bob");
  CHECK(read["seq"].GetUint64() == 4);
  auto err = payload_of(enc.error(error_code::not_member, "no", "1"));
  CHECK(err["op"] == "error");
  CHECK(err["code"] == "not_member");
  CHECK(err["message"] == "no");
  CHECK(err["rid"].GetInt() == 1);
  CHECK(payload_of(enc.pong(""))["op"] == "pong");
  auto hello = payload_of(enc.hello("u", "n", "s"));
  CHECK(hello["op"] == "hello");
  CHECK(hello["user"] == "u");
  CHECK(hello["node"] == "n");
  CHECK(hello["session"] == "s");

  std::vector<chat_message> ms;
  for (uint64_t i = 1; i <= 200; ++i)
    ms.push_back({"room", i, "u", std::to_string(i), std::string(10, 'x'), 0});
  std::vector<const chat_message*> ptrs;
  for (auto& x : ms)
    ptrs.push_back(&x);
  auto hist = payload_of(enc.history("room", ptrs, ""));
  REQUIRE(hist["messages"].Size() == 200);
  CHECK(hist["messages"][199]["seq"].GetUint64() == 200);
}

TEST_CASE("every error code has its protocol name") {
  CHECK(std::string(to_string(error_code::bad_request)) == "bad_request");
  CHECK(std::string(to_string(error_code::unauthorized)) == "unauthorized");
  CHECK(std::string(to_string(error_code::forbidden)) == "forbidden");
  CHECK(std::string(to_string(error_code::not_member)) == "not_member");
  CHECK(std::string(to_string(error_code::rate_limited)) == "rate_limited");
  CHECK(std::string(to_string(error_code::too_large)) == "too_large");
  CHECK(std::string(to_string(error_code::unavailable)) == "unavailable");
  CHECK(std::string(to_string(error_code::internal)) == "internal");
}
