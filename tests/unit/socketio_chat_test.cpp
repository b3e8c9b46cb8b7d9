// Unit: the chat over Socket.IO — every op's event decodes into the native command (ack id
// in rid) with the native field checks, replies go through the ack or as an event named
// after their op, pushes are events, errors reach the ack, other namespaces are refused,
// every frame is valid UTF-8, and a room with native and Socket.IO members encodes each
// message once per protocol with the same seq for both.
#include "net/engineio_server.hpp"
#include "net/native_codec.hpp"
#include "net/socketio_chat.hpp"
#include "net/unicode.hpp"

#include "actors/node_context.hpp"
#include "tests/support/engineio_fakes.hpp"
#include "tests/support/recording_outbound.hpp"

#include <caf/all.hpp>
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <optional>

using namespace chat;
using namespace chat::net;
using chat::test::fake_link;

namespace {

// Decodes a Socket.IO packet's text (e.g. 427["join",{...}] without the Engine.IO "4")
// into the chat command.
command decode(const std::string& text) {
  struct one : sio::decoder::handler {
    command c;
    bool got = false;
    void on_packet(sio::packet& p, const rapidjson::Value& args) override {
      c = sio::decode_chat_event(args, p);
      got = true;
    }
  } h;
  sio::decoder dec({});
  auto err = dec.feed(text, false, h);
  INFO(err);
  REQUIRE(err.empty());
  REQUIRE(h.got);
  return h.c;
}

// A server frame: a complete, unmasked WebSocket text frame of valid UTF-8; returns its
// Engine.IO message's Socket.IO part (after "4").
std::string sio_text(const frame_ptr& f) {
  REQUIRE(f->size() >= 2);
  CHECK(uint8_t((*f)[0]) == 0x81);
  std::string payload(eio::view_frame(*f).payload);
  CHECK(utf8_valid(payload));
  REQUIRE(payload[0] == '4');
  return payload.substr(1);
}

// An event frame 42["name",{...}]: checks the name, returns the object.
rapidjson::Document event_of(const frame_ptr& f, const std::string& name) {
  auto text = sio_text(f);
  REQUIRE(text.substr(0, 1) == "2");
  rapidjson::Document d;
  d.Parse(text.c_str() + 1);
  REQUIRE(d.IsArray());
  REQUIRE(d.Size() == 2);
  CHECK(d[0] == name.c_str());
  rapidjson::Document obj;
  obj.CopyFrom(d[1], obj.GetAllocator());
  REQUIRE(obj.IsObject());
  CHECK(obj["op"] == name.c_str());
  CHECK_FALSE(obj.HasMember("rid"));
  return obj;
}

// An ack frame 43<id>[{...}]: checks the id, returns the object.
rapidjson::Document ack_of(const frame_ptr& f, const std::string& id, const std::string& op) {
  auto text = sio_text(f);
  REQUIRE(text.substr(0, 1 + id.size() + 1) == "3" + id + "[");
  rapidjson::Document d;
  d.Parse(text.c_str() + 1 + id.size());
  REQUIRE(d.IsArray());
  REQUIRE(d.Size() == 1);
  rapidjson::Document obj;
  obj.CopyFrom(d[0], obj.GetAllocator());
  CHECK(obj["op"] == op.c_str());
  CHECK_FALSE(obj.HasMember("rid"));
  return obj;
}

} // namespace

TEST_CASE("every op's event decodes into its command with the ack id as rid") {
  auto join = decode(R"(27["join",{"room":"r","since":5}])");
  CHECK(join.kind == op::join);
  CHECK(join.room == "r");
  CHECK(join.has_seq);
  CHECK(join.seq == 5);
  CHECK(join.rid == "7");
  CHECK(decode(R"(2["leave",{"room":"r"}])").kind == op::leave);
  CHECK(decode(R"(2["leave",{"room":"r"}])").rid.empty());
  auto send = decode(R"(20["send",{"room":"r","text":"h\u00e9","cid":"c1","ack":"persisted"}])");
  CHECK(send.kind == op::send);
  CHECK(send.text == "h\xc3\xa9");
  CHECK(send.cid == "c1");
  CHECK(send.ack_persisted);
  CHECK(send.rid == "0");
  auto hist = decode(R"(21["history",{"room":"r","before":9,"limit":900}])");
  CHECK(hist.kind == op::history);
  CHECK(hist.seq == 9);
  CHECK(hist.limit == 500);
  CHECK(decode(R"(2["typing",{"room":"r"}])").kind == op::typing);
  auto read = decode(R"(2["read",{"room":"r","seq":3}])");
  CHECK(read.kind == op::read);
  CHECK(read.seq == 3);
  auto pres = decode(R"(23["presence",{"users":["a","b"]}])");
  CHECK(pres.kind == op::presence);
  CHECK(pres.users == std::vector<std::string>{"a", "b"});
  auto ping = decode(R"(29007199254740991["ping"])"); // no argument: no fields
  CHECK(ping.kind == op::ping);
  CHECK(ping.rid == "9007199254740991");
  CHECK(decode(R"(2["ping",{},"extra"])").kind == op::ping);
}

TEST_CASE("bad chat events become errors carrying the ack id") {
  const char* bad[] = {
    R"(25["fly",{}])",                       // unknown op
    R"(25["join",{}])",                      // missing field
    R"(25["join",{"room":""}])",
    R"(25["join","r"])",                     // argument not an object
    R"(25["send",{"room":"r","text":"t","cid":"c","ack":"never"}])",
    R"(25["read",{"room":"r"}])",
    R"(25["presence",{"users":[1]}])",
  };
  for (auto* text : bad) {
    INFO(text);
    auto c = decode(text);
    CHECK(c.kind == op::invalid);
    CHECK(c.err == error_code::bad_request);
    CHECK_FALSE(c.err_message.empty());
    CHECK(c.rid == "5");
  }
  // Binary attachments are not part of the chat.
  struct one : sio::decoder::handler {
    command c;
    void on_packet(sio::packet& p, const rapidjson::Value& args) override {
      c = sio::decode_chat_event(args, p);
    }
  } h;
  sio::decoder dec({});
  REQUIRE(dec.feed(R"(51-4["send",{"room":"r","text":{"_placeholder":true,"num":0},"cid":"c"}])",
                   false, h)
            .empty());
  REQUIRE(dec.feed("bytes", true, h).empty());
  CHECK(h.c.kind == op::invalid);
  CHECK(h.c.rid == "4");
  // An unknown op's name is cut on a character boundary in the message.
  auto long_name = decode("2[\"" + std::string(63, 'x') + "\xc3\xa9\"]");
  CHECK(utf8_valid(long_name.err_message));
  CHECK(long_name.err_message.find(std::string(63, 'x') + "'") != std::string::npos);
}

namespace {

// The event's command by the text path (decode_event_args) when it takes the event, next
// to the parser's (decode_chat_event).
struct both_paths {
  command parsed;
  std::optional<command> fast;
  std::string rid_after_decline;
};

both_paths decode_both(const std::string& text) {
  struct one : sio::decoder::handler {
    both_paths r;
    bool got = false;
    void on_packet(sio::packet& p, const rapidjson::Value& args) override {
      r.parsed = sio::decode_chat_event(args, p);
      std::string rid = p.has_id ? std::to_string(p.id) : std::string();
      r.fast = decode_event_args(p.data, rid, sio::limits{}.max_depth, sio::reserved_event);
      r.rid_after_decline = rid;
      got = true;
    }
  } h;
  sio::decoder dec({});
  INFO(text);
  REQUIRE(dec.feed(text, false, h).empty());
  REQUIRE(h.got);
  return h.r;
}

void check_same(const command& a, const command& b) {
  CHECK(a.kind == b.kind);
  CHECK(a.rid == b.rid);
  CHECK(a.room == b.room);
  CHECK(a.text == b.text);
  CHECK(a.cid == b.cid);
  CHECK(a.seq == b.seq);
  CHECK(a.has_seq == b.has_seq);
  CHECK(a.limit == b.limit);
  CHECK(a.ack_persisted == b.ack_persisted);
  CHECK(a.ack_given == b.ack_given);
  CHECK(a.users == b.users);
  CHECK(a.err == b.err);
  CHECK(a.err_message == b.err_message);
}

} // namespace

TEST_CASE("the text path decodes plain events exactly as the parser does, and declines the rest") {
  const char* plain[] = {
    R"(27["join",{"room":"r","since":12}])",
    R"(20["send",{"room":"r","text":"h\u00e9 \"q\" \\ \/","cid":"c1","ack":"persisted"}])",
    "2[\"send\",{\"room\":\"r\",\"text\":\"h\xc3\xa9\",\"cid\":7,\"ack\":\"seq\"}]",
    R"(21["history",{"room":"r","before":9,"limit":900}])",
    R"(2["typing",{"room":"r"}])",
    R"(2["read",{"room":"r","seq":3}])",
    R"(23["presence",{"users":["a","b"]}])",
    R"(29007199254740991["ping"])",
    R"(2 ["ping" , { } ] )",   // whitespace between tokens
    R"(2["leave",{"room":"r","extra":{"deep":[1,{"x":null,"y":[true,false,-1.5e3]}]}}])",
    R"(25["fly",{}])",
    R"(25["join",{}])",
    R"(25["join",{"room":""}])",
    R"(25["join",{"room":"r","since":-1}])",
    R"(25["join",{"room":"r","since":1.5}])",
    R"(25["send",{"room":"r","text":"t","cid":"c","ack":"never"}])",
    R"(25["send",{"room":"r","text":5,"cid":"c"}])",
    R"(25["read",{"room":"r"}])",
    R"(25["presence",{"users":[1]}])",
    R"(25["presence",{"users":"a"}])",
  };
  for (auto* text : plain) {
    INFO(text);
    auto r = decode_both(text);
    REQUIRE(r.fast.has_value());
    check_same(*r.fast, r.parsed);
  }

  // Other shapes, and what the parser must judge in full: the text path declines them and
  // leaves the rid as it was.
  std::string deep = "2[\"join\",{\"room\":\"r\",\"x\":" + std::string(30, '[') + std::string(30, ']') + "}]";
  std::string deeper = "[\"join\",{\"room\":\"r\",\"x\":" + std::string(31, '[') + std::string(31, ']') + "}]";
  CHECK(decode_both(deep).fast.has_value());
  const std::string declined[] = {
    R"(25["ping",{},"extra"])",                 // a third argument
    R"(25["join","r"])",                        // an argument that is not an object
    R"(25["join",{"room":"a","room":"b"}])",    // a field twice
  };
  for (auto& text : declined) {
    INFO(text);
    auto r = decode_both(text);
    CHECK_FALSE(r.fast.has_value());
    CHECK(r.rid_after_decline == (text[1] == '5' ? "5" : ""));
  }
  std::string rid = "1";
  const std::string_view others[] = {
    R"([])", R"([1])", R"({"op":"ping"})", R"("ping")", R"(["connect",{}])",
    R"(["disconnect"])", R"(["ping"] x)", R"(["ping")", std::string_view("[\"ping\"]\0", 9),
    R"([{}])", R"([["ping"]])", R"(["join",{"room":"\ud800"}])", deeper};
  for (auto json : others) {
    INFO(json);
    CHECK_FALSE(decode_event_args(json, rid, 32, sio::reserved_event).has_value());
    CHECK(rid == "1");
  }
  CHECK(decode_event_args(R"(["ping",{"a":[[1]]}])", rid, 4, sio::reserved_event).has_value());
  rid = "1";
  CHECK_FALSE(decode_event_args(R"(["ping",{"a":[[[1]]]}])", rid, 4, sio::reserved_event).has_value());
}

TEST_CASE("replies go through the ack, or as an event named after their op") {
  auto& enc = sio::chat_encoder::instance();
  CHECK(enc.id() == 1);
  CHECK(native_encoder::instance().id() == 0);
  CHECK(wire_encoder::max_encoders == 2);

  auto joined = ack_of(enc.joined("r", 3, "12"), "12", "joined");
  CHECK(joined["room"] == "r");
  CHECK(joined["seq"].GetUint64() == 3);
  auto joined_ev = event_of(enc.joined("r", 3, ""), "joined");
  CHECK(joined_ev["seq"].GetUint64() == 3);
  CHECK(ack_of(enc.left("r", "1"), "1", "left")["room"] == "r");
  event_of(enc.left("r", ""), "left");
  auto ack = ack_of(enc.ack("r", "c1", 7, 99, "0"), "0", "ack");
  CHECK(ack["cid"] == "c1");
  CHECK(ack["seq"].GetUint64() == 7);
  CHECK(ack["ts"].GetInt64() == 99);
  event_of(enc.ack("r", "c1", 7, 99, ""), "ack");
  chat_message m{"r", 4, "alice", "c9", "hi \"there\" \xe2\x82\xac", 1234};
  auto hist = ack_of(enc.history("r", {&m}, "8"), "8", "history");
  REQUIRE(hist["messages"].Size() == 1);
  CHECK(hist["messages"][0]["text"] == "hi \"there\" \xe2\x82\xac");
  event_of(enc.history("r", {}, ""), "history");
  auto pres = ack_of(enc.presence_reply({{"a", true}, {"b", false}}, "2"), "2", "presence");
  CHECK(pres["users"]["a"] == "online");
  CHECK(pres["users"]["b"] == "offline");
  ack_of(enc.pong("3"), "3", "pong");
  event_of(enc.pong(""), "pong");
  auto err = ack_of(enc.error(error_code::not_member, "not a member of room 'r'", "5"), "5", "error");
  CHECK(err["code"] == "not_member");
  CHECK(err["message"] == "not a member of room 'r'");
  auto err_ev = event_of(enc.error(error_code::rate_limited, "slow down", ""), "error");
  CHECK(err_ev["code"] == "rate_limited");
}

TEST_CASE("server pushes are events with the native fields") {
  auto& enc = sio::chat_encoder::instance();
  chat_message m{"room", 7, "alice", "c1", std::string(70000, 'x') + "\xf0\x9f\x98\x80", 1234};
  auto msg = event_of(enc.msg(m), "msg"); // 64-bit frame length
  CHECK(msg["room"] == "room");
  CHECK(msg["seq"].GetUint64() == 7);
  CHECK(msg["from"] == "alice");
  CHECK(msg["text"].GetStringLength() == 70004);
  CHECK(msg["ts"].GetInt64() == 1234);
  CHECK(msg["cid"] == "c1");
  auto hello = event_of(enc.hello("alice", "n1", "n1-4"), "hello");
  CHECK(hello["user"] == "alice");
  CHECK(hello["node"] == "n1");
  CHECK(hello["session"] == "n1-4");
  auto member = event_of(enc.member("room", "bob", true), "member");
  CHECK(member["event"] == "join");
  CHECK(event_of(enc.member("room", "bob", false), "member")["event"] == "leave");
  auto presence = event_of(enc.presence("bob", false), "presence");
  CHECK(presence["user"] == "bob");
  CHECK(presence["status"] == "offline");
  auto typing = event_of(enc.typing("room", "bob"), "typing");
  CHECK(typing["user"] == "bob");
  auto read = event_of(enc.read("room", "bob", 5), "read");
  CHECK(read["seq"].GetUint64() == 5);
  // The same message encodes to the same object in both protocols.
  auto native = native_encoder::instance().msg(m);
  auto obj = eio::view_frame(*native).payload;
  CHECK(sio_text(enc.msg(m)) == "2[\"msg\"," + std::string(obj) + "]");
}

TEST_CASE("auth payloads: {token} or {user}, strings only") {
  rapidjson::Document d;
  d.Parse(R"({"token":"t0k","user":"alice","other":1})");
  auto a = sio::parse_chat_auth(d);
  CHECK(a.token == "t0k");
  CHECK(a.user == "alice");
  CHECK(a.error.empty());
  d.Parse(R"({"user":5})");
  CHECK_FALSE(sio::parse_chat_auth(d).error.empty());
  d.Parse(("{\"user\":\"" + std::string(65, 'u') + "\"}").c_str());
  CHECK_FALSE(sio::parse_chat_auth(d).error.empty());
  rapidjson::Value null_auth;
  auto none = sio::parse_chat_auth(null_auth);
  CHECK(none.token.empty());
  CHECK(none.user.empty());
  CHECK(none.error.empty());
  // Connection-state recovery's fields: taken when they are strings of a sane length,
  // otherwise ignored (a new socket), never an error.
  d.Parse(R"({"token":"t","pid":"p1","offset":"room/3"})");
  auto rec = sio::parse_chat_auth(d);
  CHECK(rec.pid == "p1");
  CHECK(rec.offset == "room/3");
  d.Parse(("{\"user\":\"a\",\"pid\":7,\"offset\":\"" + std::string(300, 'o') + "\"}").c_str());
  auto odd = sio::parse_chat_auth(d);
  CHECK(odd.error.empty());
  CHECK(odd.pid.empty());
  CHECK(odd.offset.empty());
}

namespace {

// Records what the chat adapter hands the node; accepts or refuses by the auth's user.
struct recording_binding : sio::chat_binding {
  std::vector<std::string> connects; // auth users
  std::vector<std::vector<command>> batches;
  std::vector<std::string> closes;
  void connect(sio::session& s, const rapidjson::Value& auth) override {
    auto a = sio::parse_chat_auth(auth);
    connects.push_back(a.user);
    if (a.user == "mallory")
      s.refuse("/", "unauthorized");
    else
      s.accept("/");
  }
  void commands(std::vector<command>&& batch) override { batches.push_back(std::move(batch)); }
  void closed(const std::string& reason, bool) override { closes.push_back(reason); }
};

struct chat_fixture {
  eio::clock::time_point t0 = eio::clock::time_point{} + std::chrono::hours(1);
  std::vector<recording_binding*> bindings;
  eio::server srv;

  chat_fixture()
    : srv(eio::limits{}, sio::make_handler_factory(sio::limits{}, [this] {
            auto b = std::make_unique<recording_binding>();
            bindings.push_back(b.get());
            return std::make_unique<sio::chat_app>(std::move(b));
          })) {}
};

} // namespace

TEST_CASE_METHOD(chat_fixture, "the adapter connects on /, refuses other namespaces, batches commands") {
  auto link = std::make_shared<fake_link>();
  auto s = srv.attach_websocket(chat::test::eio_query("EIO=4&transport=websocket"), link, t0);
  REQUIRE(s);
  link->take();
  s->ws_message(*link, false, "40/admin,", t0);
  CHECK(link->take() == std::vector<std::string>{R"(44/admin,{"message":"Invalid namespace"})"});
  CHECK(bindings[0]->connects.empty());

  s->ws_message(*link, false, R"(40{"user":"alice"})", t0);
  CHECK(bindings[0]->connects == std::vector<std::string>{"alice"});
  auto frames = link->take();
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].substr(0, 9) == "40{\"sid\":");

  s->ws_message(*link, false, R"(421["join",{"room":"r"}])", t0);
  s->ws_message(*link, false, R"(42["typing",{"room":"r"}])", t0);
  REQUIRE(bindings[0]->batches.size() == 2);
  CHECK(bindings[0]->batches[0][0].kind == op::join);
  CHECK(bindings[0]->batches[0][0].rid == "1");
  CHECK(bindings[0]->batches[0][0].t0_ns > 0);
  CHECK(bindings[0]->batches[1][0].kind == op::typing);
  // An application-level error does not close the connection.
  s->ws_message(*link, false, R"(422["join",{}])", t0);
  CHECK(bindings[0]->batches[2][0].kind == op::invalid);
  CHECK_FALSE(link->closed);
  // A protocol-level error does.
  s->ws_message(*link, false, R"(42{})", t0);
  CHECK(link->closed);
  CHECK(bindings[0]->closes.size() == 1);
}

TEST_CASE_METHOD(chat_fixture, "a refused CONNECT gets connect_error and events are refused after it") {
  auto link = std::make_shared<fake_link>();
  auto s = srv.attach_websocket(chat::test::eio_query("EIO=4&transport=websocket"), link, t0);
  link->take();
  s->ws_message(*link, false, R"(40{"user":"mallory"})", t0);
  CHECK(link->take() == std::vector<std::string>{R"(44{"message":"unauthorized"})"});
  s->ws_message(*link, false, R"(42["ping"])", t0);
  CHECK(link->closed);
  CHECK(bindings[0]->batches.empty());
}

TEST_CASE_METHOD(chat_fixture, "over long-polling, a POST's events form one batch and frames drain as records") {
  auto open = srv.handle_http({"GET", chat::test::eio_query("EIO=4&transport=polling"), "", ""}, [] {}, t0);
  rapidjson::Document d;
  d.Parse(open.answer->body.c_str() + 1);
  std::string q = std::string("EIO=4&transport=polling&sid=") + d["sid"].GetString();
  auto s = srv.find(d["sid"].GetString());
  auto post = [&](const std::string& body) {
    return srv.handle_http({"POST", chat::test::eio_query(q), "text/plain", body}, [] {}, t0).answer->body;
  };
  CHECK(post(R"(40{"user":"bob"})") == "ok");
  CHECK(post("421[\"join\",{\"room\":\"r\"}]\x1e" "422[\"send\",{\"room\":\"r\",\"text\":\"x\",\"cid\":\"1\"}]") == "ok");
  REQUIRE(bindings[0]->batches.size() == 1);
  REQUIRE(bindings[0]->batches[0].size() == 2);
  CHECK(bindings[0]->batches[0][1].kind == op::send);
  CHECK(bindings[0]->batches[0][1].rid == "2");
  // What the connection actor would push: the encoder's frames, sent as polling records.
  auto& enc = sio::chat_encoder::instance();
  s->push(enc.joined("r", 0, "1"));
  s->push(enc.msg(chat_message{"r", 1, "bob", "1", "x", 5}));
  auto body = srv.handle_http({"GET", chat::test::eio_query(q), "", ""}, [] {}, t0).answer->body;
  CHECK(utf8_valid(body));
  CHECK(body.substr(0, 9) == "40{\"sid\":");
  auto rest = body.substr(body.find('\x1e') + 1);
  CHECK(rest == "431[{\"op\":\"joined\",\"room\":\"r\",\"seq\":0}]\x1e"
                "42[\"msg\",{\"op\":\"msg\",\"room\":\"r\",\"seq\":1,\"from\":\"bob\",\"text\":\"x\","
                "\"ts\":5,\"cid\":\"1\"}]");
}

namespace {

// Counts the encodings of msg() made through it (the room must make one per protocol).
struct counting_encoder final : wire_encoder {
  explicit counting_encoder(const wire_encoder& inner) : inner(inner) {}
  const wire_encoder& inner;
  mutable std::atomic<int> msgs{0};
  int id() const override { return inner.id(); }
  frame_ptr hello(const std::string& u, const std::string& n, const std::string& s) const override {
    return inner.hello(u, n, s);
  }
  frame_ptr joined(const std::string& r, uint64_t s, const std::string& rid) const override {
    return inner.joined(r, s, rid);
  }
  frame_ptr left(const std::string& r, const std::string& rid) const override { return inner.left(r, rid); }
  frame_ptr ack(const std::string& r, const std::string& c, uint64_t s, int64_t ts,
                const std::string& rid) const override {
    return inner.ack(r, c, s, ts, rid);
  }
  frame_ptr msg(const chat_message& m) const override {
    ++msgs;
    return inner.msg(m);
  }
  frame_ptr history(const std::string& r, const std::vector<const chat_message*>& ms,
                    const std::string& rid) const override {
    return inner.history(r, ms, rid);
  }
  frame_ptr member(const std::string& r, const std::string& u, bool j) const override {
    return inner.member(r, u, j);
  }
  frame_ptr presence(const std::string& u, bool o) const override { return inner.presence(u, o); }
  frame_ptr presence_reply(const std::map<std::string, bool>& o, const std::string& rid) const override {
    return inner.presence_reply(o, rid);
  }
  frame_ptr typing(const std::string& r, const std::string& u) const override { return inner.typing(r, u); }
  frame_ptr read(const std::string& r, const std::string& u, uint64_t s) const override {
    return inner.read(r, u, s);
  }
  frame_ptr error(error_code c, const std::string& m, const std::string& rid) const override {
    return inner.error(c, m, rid);
  }
  frame_ptr pong(const std::string& rid) const override { return inner.pong(rid); }
  frame_ptr authed(int64_t expires_s, const std::string& rid) const override {
    return inner.authed(expires_s, rid);
  }
};

// The frames holding `needle`, once there are `n` of them.
std::vector<frame_ptr> wait_for(test::recording_outbound& out, const std::string& needle,
                                size_t n) {
  return out.wait_for_frames(
    [&](const std::string& f) { return f.find(needle) != std::string::npos; }, n);
}

} // namespace

TEST_CASE("a room with native and Socket.IO members encodes once per protocol, same seqs") {
  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys(cfg);
  config::node_config nc;
  nc.backend = "memory";
  auto ctx = make_node_context(sys, nc);
  counting_encoder native_count(native_encoder::instance());
  counting_encoder sio_count(sio::chat_encoder::instance());
  auto room = ctx->rooms.get_or_spawn("mixed");
  std::vector<std::shared_ptr<test::recording_outbound>> outs;
  const wire_encoder* encs[] = {&native_count, &native_count, &sio_count, &sio_count};
  std::vector<member_ref> members;
  for (uint64_t i = 0; i < 4; ++i) {
    outs.push_back(std::make_shared<test::recording_outbound>());
    members.push_back(member_ref{i + 1, "u" + std::to_string(i), outs.back(), encs[i]});
    caf::anon_send(room, r_join_atom::value, join_request{members.back(), {}, false, 0, ""});
  }
  constexpr int sends = 20;
  for (int k = 0; k < sends; ++k)
    caf::anon_send(room, r_send_atom::value,
                   send_request{members[size_t(k % 4)], "c" + std::to_string(k), "text", false,
                                std::to_string(k)});
  std::vector<std::vector<frame_ptr>> got;
  for (size_t i = 0; i < 4; ++i) {
    got.push_back(wait_for(*outs[i], i < 2 ? "\"op\":\"msg\"" : "[\"msg\",", sends));
    REQUIRE(got.back().size() == sends);
  }
  CHECK(native_count.msgs == sends);
  CHECK(sio_count.msgs == sends);
  for (size_t k = 0; k < sends; ++k) {
    CHECK(got[0][k].get() == got[1][k].get()); // one buffer per protocol
    CHECK(got[2][k].get() == got[3][k].get());
    auto native_obj = eio::view_frame(*got[0][k]).payload;
    CHECK(sio_text(got[2][k]) == "2[\"msg\"," + std::string(native_obj) + "]");
    rapidjson::Document d;
    d.Parse(native_obj.data(), native_obj.size());
    CHECK(d["seq"].GetUint64() == k + 1);
  }
  // The Socket.IO senders' acks went through their ack ids.
  auto acks = wait_for(*outs[2], "[{\"op\":\"ack\"", sends / 4);
  REQUIRE(acks.size() == sends / 4);
  CHECK(sio_text(acks[0]).substr(0, 3) == "32["); // send #2 carried ack id "2"
  for (auto& r : ctx->rooms.actors())
    caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(ctx->presence, caf::exit_reason::user_shutdown);
  sys.await_all_actors_done();
}
