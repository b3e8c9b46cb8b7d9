// Unit: the Engine.IO v4 codec — text packets, polling payloads (record separator, 'b' +
// base64 for binary), server frames and their polling records, HTTP error answers, ids.
#include "net/engineio_packet.hpp"

#include "net/unicode.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <set>

using namespace chat::net::eio;

TEST_CASE("text packets decode to their type and data") {
  packet p;
  for (int t = 0; t <= 6; ++t) {
    REQUIRE(decode_text_packet(std::to_string(t) + "data", p));
    CHECK(int(p.type) == t);
    CHECK(p.data == "data");
    CHECK_FALSE(p.binary);
  }
  REQUIRE(decode_text_packet("2", p));
  CHECK(p.type == packet_type::ping);
  CHECK(p.data.empty());
  CHECK_FALSE(decode_text_packet("", p));
  CHECK_FALSE(decode_text_packet("7", p));
  CHECK_FALSE(decode_text_packet("abc", p));
  CHECK_FALSE(decode_text_packet("b4", p));
}

TEST_CASE("polling payloads split on the record separator and decode base64 binaries") {
  std::vector<packet> out;
  REQUIRE(decode_payload("4hello\x1e" "bAQIDBA==\x1e" "3", 10, out) == payload_error::none);
  REQUIRE(out.size() == 3);
  CHECK(out[0].type == packet_type::message);
  CHECK(out[0].data == "hello");
  CHECK(out[1].binary);
  CHECK(out[1].data == std::string("\x01\x02\x03\x04"));
  CHECK(out[2].type == packet_type::pong);
  REQUIRE(decode_payload("4", 1, out) == payload_error::none);
  CHECK(out[0].data.empty());
  REQUIRE(decode_payload("b", 1, out) == payload_error::none); // an empty binary message
  CHECK(out[0].binary);
  CHECK(out[0].data.empty());

  CHECK(decode_payload("", 10, out) == payload_error::empty_record);
  CHECK(decode_payload("4a\x1e", 10, out) == payload_error::empty_record);
  CHECK(decode_payload("4a\x1e\x1e" "4b", 10, out) == payload_error::empty_record);
  CHECK(decode_payload("abc", 10, out) == payload_error::bad_packet);
  CHECK(decode_payload("4a\x1e" "9", 10, out) == payload_error::bad_packet);
  CHECK(decode_payload("b!!!!", 10, out) == payload_error::bad_base64);
  CHECK(decode_payload("bAQIDBA", 10, out) == payload_error::bad_base64); // no padding
  CHECK(decode_payload("bAQ==AA", 10, out) == payload_error::bad_base64); // data after padding
  CHECK(decode_payload("4a\x1e" "4b\x1e" "4c", 2, out) == payload_error::too_many_packets);
  CHECK(decode_payload("4a\x1e" "4b", 2, out) == payload_error::none);
}

TEST_CASE("encode_payload is the inverse of decode_payload") {
  std::vector<packet> in{{packet_type::message, false, "héllo"},
                         {packet_type::message, true, std::string("\x00\xff\x10", 3)},
                         {packet_type::ping, false, ""},
                         {packet_type::message, true, ""}};
  auto text = encode_payload(in);
  CHECK(text == "4h\xc3\xa9llo\x1e" "bAP8Q\x1e" "2\x1e" "b");
  std::vector<packet> out;
  REQUIRE(decode_payload(text, 10, out) == payload_error::none);
  REQUIRE(out.size() == in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    CHECK(out[i].type == in[i].type);
    CHECK(out[i].binary == in[i].binary);
    CHECK(out[i].data == in[i].data);
  }
}

TEST_CASE("server frames are WebSocket frames whose polling record is the packet") {
  for (size_t size : {0, 1, 124, 125, 126, 65534, 65535, 70000}) {
    INFO(size);
    std::string data(size, 'x');
    auto text = make_frame(packet_type::message, data);
    CHECK(uint8_t((*text)[0]) == 0x81); // FIN + text
    auto v = view_frame(*text);
    CHECK_FALSE(v.binary);
    CHECK(v.payload == "4" + data);
    std::string body;
    append_polling_record(body, *text);
    CHECK(body == "4" + data);
    CHECK(polling_record_size(*text) == body.size());

    auto bin = make_binary_frame(data);
    CHECK(uint8_t((*bin)[0]) == 0x82); // FIN + binary
    auto bv = view_frame(*bin);
    CHECK(bv.binary);
    CHECK(bv.payload == data);
    std::string bbody = "4a";
    append_polling_record(bbody, *bin);
    CHECK(bbody == "4a\x1e" "b" + base64_encode(data));
    CHECK(polling_record_size(*bin) + 3 == bbody.size());
  }
  auto ping = make_frame(packet_type::ping);
  CHECK(view_frame(*ping).payload == "2");
  CHECK(view_frame(*make_frame(packet_type::pong, "probe")).payload == "3probe");
}

TEST_CASE("base64 round-trips every length and refuses what is not base64") {
  std::string bytes;
  for (int n = 0; n < 20; ++n) {
    std::string back;
    REQUIRE(base64_decode(base64_encode(bytes), back));
    CHECK(back == bytes);
    bytes.push_back(char(n * 37));
  }
  CHECK(base64_encode("\x01\x02\x03\x04") == "AQIDBA==");
  std::string out;
  CHECK_FALSE(base64_decode("A", out));
  CHECK_FALSE(base64_decode("AQIDBA=", out));
  CHECK_FALSE(base64_decode("AQ\nIDBA==", out));
  CHECK_FALSE(base64_decode("-_==", out)); // URL-safe letters are not the original alphabet
}

TEST_CASE("HTTP errors carry Engine.IO's codes, messages and statuses") {
  struct expected {
    http_error e;
    int status;
    const char* body;
  } cases[] = {
    {http_error::transport_unknown, 400, R"({"code":0,"message":"Transport unknown"})"},
    {http_error::session_unknown, 400, R"({"code":1,"message":"Session ID unknown"})"},
    {http_error::bad_handshake_method, 400, R"({"code":2,"message":"Bad handshake method"})"},
    {http_error::bad_request, 400, R"({"code":3,"message":"Bad request"})"},
    {http_error::forbidden, 403, R"({"code":4,"message":"Forbidden"})"},
    {http_error::unsupported_protocol_version, 400,
     R"({"code":5,"message":"Unsupported protocol version"})"},
  };
  for (auto& c : cases) {
    auto a = error_answer(c.e);
    CHECK(a.status == c.status);
    CHECK(a.content_type == "application/json");
    CHECK(a.body == c.body);
  }
  CHECK(error_answer(http_error::bad_request, 413).status == 413);
  auto ok = ok_answer();
  CHECK(ok.status == 200);
  CHECK(ok.body == "ok");
  CHECK(payload_answer("4x").content_type == "text/plain; charset=UTF-8");
}

TEST_CASE("random ids are 20 URL-safe characters and differ") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = random_id();
    REQUIRE(id.size() == 20);
    for (char c : id)
      CHECK((std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'));
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
}
