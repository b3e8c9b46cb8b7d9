// Unit: the Socket.IO v5 packet codec — every packet type with namespaces, ack ids and
// JSON payloads, binary packets reassembled from their attachments, the encoder, and the
// malformed packets (and exceeded bounds) that must close a connection.
#include "net/socketio_packet.hpp"

#include "net/engineio_packet.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

using namespace chat;
using namespace chat::net::sio;

namespace {

struct decoded {
  packet p;
  std::string payload; // re-serialized, "" when absent
};

struct collector : decoder::handler {
  std::vector<decoded> got;
  void on_packet(packet& p, const rapidjson::Value& payload) override {
    decoded d{p, {}};
    if (!payload.IsNull()) {
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      payload.Accept(w);
      d.payload.assign(buf.GetString(), buf.GetSize());
    }
    got.push_back(std::move(d));
  }
};

// Decodes one text message on a fresh decoder: the packet, or the error.
std::string decode_one(const std::string& text, decoded& out, limits lim = {}) {
  decoder dec(lim);
  collector c;
  auto err = dec.feed(text, false, c);
  if (err.empty()) {
    REQUIRE(c.got.size() == 1);
    out = c.got[0];
  }
  return err;
}

} // namespace

TEST_CASE("packets decode with their namespace, ack id and payload") {
  decoded d;
  REQUIRE(decode_one("0", d).empty());
  CHECK(d.p.type == packet_type::connect);
  CHECK(d.p.nsp == "/");
  CHECK_FALSE(d.p.has_id);
  CHECK(d.payload.empty());

  REQUIRE(decode_one(R"(0{"token":"123"})", d).empty());
  CHECK(d.payload == R"({"token":"123"})");
  REQUIRE(decode_one("0/custom,", d).empty());
  CHECK(d.p.nsp == "/custom");
  REQUIRE(decode_one(R"(0/custom,{"token":"abc"})", d).empty());
  CHECK(d.p.nsp == "/custom");
  CHECK(d.payload == R"({"token":"abc"})");
  REQUIRE(decode_one("0/random", d).empty()); // a namespace may end the packet
  CHECK(d.p.nsp == "/random");

  REQUIRE(decode_one("1", d).empty());
  CHECK(d.p.type == packet_type::disconnect);
  REQUIRE(decode_one("1/custom,", d).empty());
  CHECK(d.p.nsp == "/custom");

  REQUIRE(decode_one(R"(2["message",1,"2",{"3":[true]}])", d).empty());
  CHECK(d.p.type == packet_type::event);
  CHECK(d.payload == R"(["message",1,"2",{"3":[true]}])");
  CHECK(d.p.data == R"(["message",1,"2",{"3":[true]}])");

  REQUIRE(decode_one(R"(2456["message-with-ack",1])", d).empty());
  CHECK(d.p.has_id);
  CHECK(d.p.id == 456);
  REQUIRE(decode_one(R"(2/admin,0["x"])", d).empty());
  CHECK(d.p.nsp == "/admin");
  CHECK(d.p.id == 0);
  CHECK(d.p.has_id);
  REQUIRE(decode_one(R"(29007199254740991["x"])", d).empty());
  CHECK(d.p.id == max_ack_id);

  REQUIRE(decode_one(R"(3456[1,"2",{"3":[false]}])", d).empty());
  CHECK(d.p.type == packet_type::ack);
  CHECK(d.p.id == 456);
  REQUIRE(decode_one("3/custom,7[]", d).empty());
  CHECK(d.p.nsp == "/custom");
  CHECK(d.p.id == 7);

  REQUIRE(decode_one(R"(4{"message":"no"})", d).empty());
  CHECK(d.p.type == packet_type::connect_error);
  REQUIRE(decode_one(R"(2["h\u00e9 \ud83d\ude00"])", d).empty()); // escapes, a surrogate pair
}

TEST_CASE("binary packets wait for their attachments") {
  decoder dec({});
  collector c;
  CHECK(dec.feed(R"(52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])",
                 false, c)
          .empty());
  CHECK(dec.reconstructing());
  CHECK(c.got.empty());
  CHECK(dec.feed("\x01\x02\x03", true, c).empty());
  CHECK(c.got.empty());
  CHECK(dec.feed("\x04\x05\x06", true, c).empty());
  CHECK_FALSE(dec.reconstructing());
  REQUIRE(c.got.size() == 1);
  auto& p = c.got[0].p;
  CHECK(p.type == packet_type::binary_event);
  CHECK(p.attachments == std::vector<std::string>{"\x01\x02\x03", "\x04\x05\x06"});
  CHECK(c.got[0].payload
        == R"(["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");

  CHECK(dec.feed(R"(62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])", false, c)
          .empty());
  CHECK(dec.feed("a", true, c).empty());
  CHECK(dec.feed("", true, c).empty()); // an empty attachment
  REQUIRE(c.got.size() == 2);
  CHECK(c.got[1].p.type == packet_type::binary_ack);
  CHECK(c.got[1].p.id == 789);
  CHECK(c.got[1].p.attachments == std::vector<std::string>{"a", ""});

  // No attachments: delivered at once.
  CHECK(dec.feed(R"(50-/custom,["x"])", false, c).empty());
  REQUIRE(c.got.size() == 3);
  CHECK(c.got[2].p.nsp == "/custom");
  CHECK(c.got[2].p.attachments.empty());
}

TEST_CASE("malformed packets are protocol errors") {
  const char* bad[] = {
    "",
    "7",
    "abc",
    "2{}",                                   // EVENT payload is not an array
    "2[]",                                   // no event name
    "2[1]",                                  // event name is not a string
    R"(2["connect"])",                       // reserved event names
    R"(2["disconnect",1])",
    R"(2abc["message-with-ack",1])",         // invalid ack id (then not JSON)
    "2",                                     // EVENT without payload
    "3",                                     // ACK without payload
    "3{}",
    "1{}",                                   // DISCONNECT with a payload
    "0[]",                                   // CONNECT payload must be an object
    "0\"x\"",
    "4[]",
    R"(2["x"] trailing)",
    R"(2["x")",
    R"(2["\udc00"])",                        // lone low surrogate
    R"(2["\ud800"])",                        // lone high surrogate
    "2[\"\xc3\x28\"]",                       // not UTF-8
    R"(210000000000000000["x"])",            // ack id beyond 2^53
    R"(29007199254740992["x"])",
    "5[\"x\"]",                              // binary without attachment count
    "5x-[\"x\"]",
    "51[\"x\"]",
    "511-[\"x\"]",                           // more attachments than the bound (10)
    R"(51-["x",{"_placeholder":true,"num":1}])", // placeholder past the attachments
    R"(51-["x",{"_placeholder":true}])",
    R"(51-["x",{"_placeholder":true,"num":-1}])",
    R"(51-["x",{"_placeholder":true,"num":"0"}])",
  };
  for (auto* text : bad) {
    INFO(text);
    decoded d;
    CHECK_FALSE(decode_one(text, d).empty());
  }
  decoded d;
  std::string deep = "2[\"x\"," + std::string(40, '[') + std::string(40, ']') + "]";
  CHECK_FALSE(decode_one(deep, d).empty());
  std::string shallow = "2[\"x\"," + std::string(30, '[') + std::string(30, ']') + "]";
  CHECK(decode_one(shallow, d).empty());
  // Brackets inside strings do not count.
  CHECK(decode_one("2[\"" + std::string(100, '[') + "\"]", d).empty());
  CHECK_FALSE(decode_one("2/" + std::string(200, 'n') + ",[\"x\"]", d).empty());
}

TEST_CASE("attachments out of turn and over their byte bound are protocol errors") {
  collector c;
  {
    decoder dec({});
    CHECK_FALSE(dec.feed("\x01", true, c).empty()); // nothing waits for an attachment
  }
  {
    decoder dec({});
    REQUIRE(dec.feed(R"(51-["x",{"_placeholder":true,"num":0}])", false, c).empty());
    CHECK_FALSE(dec.feed(R"(2["y"])", false, c).empty()); // text while reassembling
  }
  {
    limits lim;
    lim.max_attachment_bytes = 10;
    decoder dec(lim);
    REQUIRE(dec.feed(R"(52-["x"])", false, c).empty());
    REQUIRE(dec.feed(std::string(6, 'a'), true, c).empty());
    CHECK_FALSE(dec.feed(std::string(5, 'b'), true, c).empty());
  }
  CHECK(c.got.empty());
}

TEST_CASE("packets encode to the wire format and decode back") {
  packet connect_ok{packet_type::connect, "/custom", false, 0, R"({"sid":"abc"})", {}};
  CHECK(encode(connect_ok) == R"(0/custom,{"sid":"abc"})");
  packet refused{packet_type::connect_error, "/random", false, 0,
                 R"({"message":"Invalid namespace"})", {}};
  CHECK(encode(refused) == R"(4/random,{"message":"Invalid namespace"})");
  packet main_connect{packet_type::connect, "/", false, 0, R"({"sid":"s"})", {}};
  CHECK(encode(main_connect) == R"(0{"sid":"s"})");
  packet ack{packet_type::ack, "/", true, 456, R"([1,"2"])", {}};
  CHECK(encode(ack) == R"(3456[1,"2"])");
  packet disconnect{packet_type::disconnect, "/custom", false, 0, "", {}};
  CHECK(encode(disconnect) == "1/custom,");
  packet bin{packet_type::binary_ack, "/", true, 789,
             R"([{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])", {"\x01", "\x02"}};
  CHECK(encode(bin) == R"(62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");

  auto frames = encode_frames(bin);
  REQUIRE(frames.size() == 3);
  CHECK(net::eio::view_frame(*frames[0]).payload == "4" + encode(bin));
  CHECK(net::eio::view_frame(*frames[1]).binary);
  CHECK(net::eio::view_frame(*frames[2]).payload == "\x02");

  for (auto* p : {&connect_ok, &refused, &ack, &disconnect, &bin}) {
    decoder dec({});
    collector c;
    REQUIRE(dec.feed(encode(*p), false, c).empty());
    for (auto& a : p->attachments)
      REQUIRE(dec.feed(a, true, c).empty());
    REQUIRE(c.got.size() == 1);
    auto& back = c.got[0].p;
    CHECK(back.type == p->type);
    CHECK(back.nsp == p->nsp);
    CHECK(back.has_id == p->has_id);
    CHECK(back.id == p->id);
    CHECK(back.data == p->data);
    CHECK(back.attachments == p->attachments);
  }
}
