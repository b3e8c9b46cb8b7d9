// Unit: the native protocol codec — every op decodes, every error is reported with the
// right code, text is valid Unicode in and out (lone surrogate escapes refused, every
// encoded frame valid UTF-8 whatever it carries), the name rules and bounds hold, and
// deep or wide JSON costs no more than its size.
#include "net/field_rules.hpp"
#include "net/native_codec.hpp"
#include "net/ws_frame.hpp"
#include "tests/support/json_frames.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <cstdio>
#include <ctime>
#include <sys/resource.h>

using namespace chat;
using namespace chat::net;

namespace {

// A plain reference check of UTF-8 (a second implementation, independent of net/unicode):
// decode each sequence and check the scalar value's range and shortest form.
bool is_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    uint8_t c = uint8_t(s[i]);
    size_t len = c < 0x80            ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size())
      return false;
    uint32_t cp = len == 1 ? c : c & (0xFF >> (len + 1));
    for (size_t k = 1; k < len; ++k) {
      if ((uint8_t(s[i + k]) & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (uint8_t(s[i + k]) & 0x3F);
    }
    const uint32_t shortest[] = {0, 0, 0x80, 0x800, 0x10000};
    if ((len > 1 && cp < shortest[len]) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

// The payload of an encoded (unmasked, single) server text frame; it must be valid UTF-8.
std::string text_of(const frame_ptr& f) {
  REQUIRE(f->size() >= 2);
  REQUIRE(uint8_t((*f)[0]) == 0x81);
  size_t len = uint8_t((*f)[1]) & 0x7f, header = 2;
  if (len == 126) {
    len = (size_t(uint8_t((*f)[2])) << 8) | uint8_t((*f)[3]);
    header = 4;
  } else if (len == 127) {
    len = 0;
    for (int i = 2; i < 10; ++i)
      len = (len << 8) | uint8_t((*f)[i]);
    header = 10;
  }
  REQUIRE(f->size() == header + len);
  std::string text = f->substr(header);
  REQUIRE(is_utf8(text));
  return text;
}

// Parses the JSON payload of an encoded server frame (strictly: valid UTF-8 throughout).
rapidjson::Document payload_of(const frame_ptr& f) {
  auto text = text_of(f);
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

std::string str(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

command decode(const std::string& frame) { return decode_native(frame); }

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

TEST_CASE("escapes that leave a lone surrogate are bad_request; pairs decode") {
  // The issue's frame: a lone low surrogate used to be stored and sent as ED B0 80.
  auto poisoned = decode(R"({"op":"send","room":"R","text":"\udc00","cid":"x"})");
  CHECK(poisoned.kind == op::invalid);
  CHECK(poisoned.err == error_code::bad_request);
  CHECK(poisoned.err_message.find("field 'text' is not valid Unicode") != std::string::npos);
  const char* lone[] = {
    R"(\udc00)", R"(\uDFFF)", R"(a\ud800)", R"(\ud800b)", R"(\ud800\u0041)", R"(\ud800\ud800)",
    R"(\udc00\ud800)", R"(\ud83d\n)", R"(x\udbff)",
  };
  for (auto* esc : lone) {
    std::string e(esc);
    INFO(e);
    for (auto& frame : {
           R"({"op":"send","room":"R","cid":"x","text":")" + e + "\"}",
           R"({"op":"join","room":")" + e + "\"}",
           R"({"op":"send","room":"R","text":"t","cid":")" + e + "\"}",
           R"({"op":"ping","rid":")" + e + "\"}",
           R"({"op":"presence","users":[")" + e + "\"]}",
           R"({"op":")" + e + "\"}",
           R"({"op":"ping","unknown":{"deep":[")" + e + "\"]}})",
           R"({"op":"ping",")" + e + "\":1}",
         }) {
      INFO(frame);
      auto c = decode(frame);
      CHECK(c.kind == op::invalid);
      CHECK(c.err == error_code::bad_request);
      CHECK(c.err_message.find("not valid Unicode") != std::string::npos);
    }
  }
  auto pair = decode(R"({"op":"send","room":"R","text":"\ud83d\ude00 \u00e9\u0000!","cid":"x"})");
  REQUIRE(pair.kind == op::send);
  CHECK(pair.text == std::string("\xf0\x9f\x98\x80 \xc3\xa9\0!", 9));
  // Raw bytes that are not UTF-8 (surrogates, overlong, above U+10FFFF) are refused too.
  for (auto* raw : {"\xed\xb0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\xff"}) {
    auto c = decode(std::string(R"({"op":"send","room":"R","cid":"x","text":")") + raw + "\"}");
    CHECK(c.kind == op::invalid);
  }
}

TEST_CASE("names, ids and lists follow the documented rules and bounds") {
  auto send_with = [](const std::string& field_json) {
    return decode(R"({"op":"send","room":"R","text":"t",)" + field_json + "}");
  };
  CHECK(decode(R"({"op":"join","room":"caf\u00e9"})").room == "caf\xc3\xa9");
  CHECK(decode(R"({"op":"join","room":")" + std::string(max_room_bytes, 'r') + "\"}").kind
        == op::join);
  for (auto* room : {R"(a b)", R"(a\tb)", R"(a\u0000b)", R"(\u007f)", R"(\u0085)", R"(\u00a0)",
                     R"(\u202e)", R"(\u200b)", R"(\ufeff)", R"(dm:alice:bob)"}) {
    std::string r(room);
    INFO(r);
    for (auto* op : {"join", "leave", "typing", "history"}) {
      auto c = decode(std::string(R"({"op":")") + op + R"(","room":")" + r + "\"}");
      CHECK(c.kind == op::invalid);
      CHECK(c.err_message.find("field 'room'") != std::string::npos);
    }
  }
  CHECK(decode(R"({"op":"join","room":")" + std::string(max_room_bytes + 1, 'r') + "\"}").kind
        == op::invalid);

  CHECK(send_with(R"("cid":"with space")").cid == "with space");
  CHECK(send_with(R"("cid":18446744073709551615)").cid == "18446744073709551615");
  CHECK(send_with("\"cid\":\"" + std::string(max_cid_bytes, 'c') + "\"").kind == op::send);
  for (auto* cid : {R"("cid":"")", R"("cid":"a\nb")", R"("cid":"\u0000")", R"("cid":-1)",
                    R"("cid":true)", R"("cid":null)"})
    CHECK(send_with(cid).kind == op::invalid);
  CHECK(send_with("\"cid\":\"" + std::string(max_cid_bytes + 1, 'c') + "\"").kind == op::invalid);
  CHECK(send_with(R"("cid":"c","room":"S")").err_message == "duplicate field 'room'");

  // rid: a string of at most 128 bytes or any number, echoed as JSON.
  CHECK(decode(R"({"op":"ping","rid":-3})").rid == "-3");
  CHECK(decode(R"({"op":"ping","rid":1.5})").rid == "1.5");
  CHECK(decode(R"({"op":"ping","rid":"a\"\u0001"})").rid == R"("a\"\u0001")");
  CHECK(decode(R"({"op":"ping","rid":")" + std::string(max_rid_bytes, 'q') + "\"}").kind
        == op::ping);
  auto long_rid = decode(R"({"op":"ping","rid":")" + std::string(max_rid_bytes + 1, 'q') + "\"}");
  CHECK(long_rid.kind == op::invalid);
  CHECK(long_rid.rid.empty());
  for (auto* rid : {"null", "true", "{}", "[]"})
    CHECK(decode(std::string(R"({"op":"ping","rid":)") + rid + "}").kind == op::invalid);

  // presence: at most 1000 entries of 1..64 printable bytes; `users` elsewhere is ignored.
  std::string users = "[";
  for (size_t i = 0; i < max_presence_users; ++i)
    users += (i ? ",\"u" : "\"u") + std::to_string(i) + "\"";
  CHECK(decode(R"({"op":"presence","users":)" + users + "]}").users.size() == max_presence_users);
  auto too_many = decode(R"({"op":"presence","users":)" + users + R"(,"one more"]})");
  CHECK(too_many.kind == op::invalid);
  CHECK(too_many.err_message.find("at most 1000") != std::string::npos);
  CHECK(decode(R"({"op":"ping","users":)" + users + R"(,"one more",7,[]]})").kind == op::ping);
  for (auto* list : {R"([""])", R"(["a\nb"])", R"([["a"]])", R"([{}])", R"("a")"})
    CHECK(decode(std::string(R"({"op":"presence","users":)") + list + "}").kind == op::invalid);
  CHECK(decode(R"({"op":"presence","users":[")" + std::string(max_user_bytes + 1, 'u') + "\"]}")
          .kind
        == op::invalid);

  // A NUL byte or a BOM outside strings is not JSON.
  CHECK(decode(std::string("{\"op\":\"ping\"}\0x", 15)).kind == op::invalid);
  CHECK(decode(std::string("{\"op\":\"ping\"} \0", 15)).kind == op::invalid);
  CHECK(decode("\xef\xbb\xbf{\"op\":\"ping\"}").kind == op::invalid);
  // The op named in an error is cut between characters.
  auto unknown = decode(R"({"op":"x)" + std::string(40, '\xc3') + "\"}");
  CHECK(unknown.kind == op::invalid);
  std::string long_op = "x";
  for (int i = 0; i < 40; ++i)
    long_op += "\xc3\xa9";
  auto cut = decode(R"({"op":")" + long_op + "\"}");
  CHECK(is_utf8(cut.err_message));
  CHECK(cut.err_message.find("unknown op 'x\xc3\xa9") == 0);
}

TEST_CASE("JSON nesting is bounded at any frame size") {
  using test::nested_ping;
  // The root object is level 1.
  CHECK(decode(nested_ping(max_json_depth - 1, "[", "]")).kind == op::ping);
  CHECK(decode(nested_ping(max_json_depth - 1, R"({"a":)", "}")).kind == op::ping);
  auto deep = decode(nested_ping(max_json_depth, "[", "]"));
  CHECK(deep.kind == op::invalid);
  CHECK(deep.err_message == "JSON nested deeper than 32 levels");
  // A million levels (the issue: ~110,000 overflowed the stack) stop at level 33.
  CHECK(decode(nested_ping(1000000, "[", "]")).err_message == deep.err_message);
  CHECK(decode(nested_ping(1000000, R"({"a":)", "}")).err_message == deep.err_message);
  CHECK(decode(std::string(1000000, '[')).kind == op::invalid);
}

TEST_CASE("a frame of countless small values uses no memory beyond its own size") {
  // Nothing but the fields the protocol knows is kept: a document of 4 million values
  // (which a DOM holds in 16 bytes each, twice over while parsing) adds nothing.
  auto peak_kib = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return long(u.ru_maxrss);
  };
  auto elements = test::repeated(R"({"op":"ping","x":[0)", ",0", 8 << 20, "]}");
  auto members = test::repeated(R"({"op":"ping")", R"(,"a":0)", 8 << 20, "}");
  auto users = test::repeated(R"({"op":"send","room":"r","text":"t","cid":"c","users":["a")",
                              R"(,"a")", 8 << 20, "]}");
  long before = peak_kib();
  CHECK(decode(elements).kind == op::ping);
  CHECK(decode(members).kind == op::ping);
  CHECK(decode(users).kind == op::send);
  CHECK(peak_kib() - before < 8 * 1024); // less than the size of one of these frames
}

TEST_CASE("every encoder sends valid UTF-8 whatever it is given") {
  auto& enc = net::native_encoder::instance();
  const std::string nasty[] = {
    "", "plain", "quote \" backslash \\ slash / <script>", "\x01\x1f\t\n\r\b\f",
    std::string("nul\0inside", 10), "del \x7f nel \xc2\x85", "ls \xe2\x80\xa8 ps \xe2\x80\xa9",
    "pair \xf0\x9f\x98\x80 bom \xef\xbb\xbf", std::string(70000, 'l') + "\xc3\xa9",
    // Not UTF-8: what an old store, a config file or a bug could hand the encoder.
    "\xed\xb0\x80", "cesu \xed\xa0\xbd\xed\xb8\x80", "over \xc0\xaf", "\xff\xfe",
    "cut \xf0\x9f\x98",
    "end \xe2\x82", std::string(70000, 'l') + "\xed\xb0\x80",
  };
  for (auto& s : nasty) {
    INFO(s.substr(0, 40));
    bool valid = is_utf8(s);
    // Valid text comes back exactly; anything else comes back valid, with U+FFFD.
    auto same = [&](const rapidjson::Value& v) {
      auto got = str(v);
      if (valid)
        CHECK(got == s);
      else
        CHECK(got.find("\xef\xbf\xbd") != std::string::npos);
    };
    chat_message m{s, 7, s, s, s, 1234};
    std::vector<const chat_message*> ms{&m, &m};
    auto hello = payload_of(enc.hello(s, s, s));
    same(hello["user"]);
    same(hello["node"]);
    same(hello["session"]);
    same(payload_of(enc.joined(s, 3, ""))["room"]);
    same(payload_of(enc.left(s, ""))["room"]);
    auto ack = payload_of(enc.ack(s, s, 7, 99, ""));
    same(ack["room"]);
    same(ack["cid"]);
    auto msg = payload_of(enc.msg(m));
    for (auto* k : {"room", "from", "cid", "text"})
      same(msg[k]);
    auto hist = payload_of(enc.history(s, ms, ""));
    same(hist["room"]);
    REQUIRE(hist["messages"].Size() == 2);
    same(hist["messages"][1]["text"]);
    auto member = payload_of(enc.member(s, s, true));
    same(member["room"]);
    same(member["user"]);
    same(payload_of(enc.presence(s, false))["user"]);
    auto reply = payload_of(enc.presence_reply({{s, true}, {"b", false}}, ""));
    REQUIRE(reply["users"].MemberCount() == 2);
    for (auto& u : reply["users"].GetObject())
      if (u.value == "online")
        same(u.name);
    auto typing = payload_of(enc.typing(s, s));
    same(typing["room"]);
    same(typing["user"]);
    auto read = payload_of(enc.read(s, s, 4));
    same(read["room"]);
    same(read["user"]);
    same(payload_of(enc.error(error_code::bad_request, s, ""))["message"]);
    // A rid is raw JSON from a decoder; one that is not UTF-8 is repaired like text.
    if (!valid) {
      auto tail = s.substr(s.size() > 100 ? s.size() - 100 : 0);
      CHECK(str(payload_of(enc.pong("\"" + tail + "\""))["rid"]).find("\xef\xbf\xbd")
            != std::string::npos);
    }
  }
  // Rids the decoder accepted come back exactly, escapes and all.
  for (auto* rid : {R"("\u0000\"\\\ud83d\ude00")", "-12", "2.5e-7", R"("é")"}) {
    auto c = decode(std::string(R"({"op":"ping","rid":)") + rid + "}");
    REQUIRE(c.kind == op::ping);
    auto pong = payload_of(enc.pong(c.rid));
    rapidjson::Document sent;
    sent.Parse(rid);
    CHECK(pong["rid"] == sent);
  }
}

TEST_CASE("decoder cost per frame", "[.bench]") {
  // Hidden: ./unit_native_codec_test "[.bench]" prints CPU time per decoded frame.
  std::string cyr;
  for (int i = 0; i < 2048; ++i)
    cyr += "\xd0\xb6";
  std::string users = R"({"op":"presence","users":["u0")";
  for (int i = 1; i < 1000; ++i)
    users += ",\"user" + std::to_string(i) + "\"";
  std::pair<const char*, std::string> frames[] = {
    {"ping", R"({"op":"ping"})"},
    {"send 100 B", R"({"op":"send","room":"general","text":"hello there, how are you doing )"
                   R"(today?","cid":"c-123456","rid":7})"},
    {"send 4 KiB ASCII",
     R"({"op":"send","room":"general","cid":"c1","text":")" + std::string(4096, 'a') + "\"}"},
    {"send 4 KiB 2-byte", R"({"op":"send","room":"general","cid":"c1","text":")" + cyr + "\"}"},
    {"presence 1000", users + "]}"},
  };
  for (auto& [name, f] : frames) {
    double best = 1e18;
    size_t invalid = 0;
    for (int round = 0; round < 7; ++round) {
      int n = int(4000000 / (f.size() + 100));
      timespec t0{}, t1{};
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
      for (int i = 0; i < n; ++i)
        invalid += decode_native(f).kind == op::invalid;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
      best = std::min(best, ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n);
    }
    CHECK(invalid == 0);
    std::printf("%-20s %6zu B %9.0f ns/frame %6.2f ns/B\n", name, f.size(), best, best / f.size());
  }
}
