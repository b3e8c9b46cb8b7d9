// Unit: the Engine.IO v4 endpoint and session state machine, without sockets — request
// checks and their errors, the polling handshake and queue, one pending GET at a time,
// heartbeat and ping timeout on a clock the test drives, maxPayload, the upgrade to
// WebSocket (2probe/3probe, noop releasing the pending GET, 5), WebSocket sessions, and
// closing from either side. Scenarios follow the protocol's reference test suite.
#include "net/engineio_server.hpp"

#include "tests/support/engineio_fakes.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <condition_variable>
#include <thread>

using namespace chat;
using namespace chat::net::eio;
using chat::test::eio_query;
using chat::test::fake_link;
using chat::test::frame_text;
using chat::test::recording_handler;
using namespace std::chrono_literals;

namespace {

constexpr auto interval = 300ms;
constexpr auto timeout = 200ms;

limits test_limits() {
  limits l;
  l.ping_interval = interval;
  l.ping_timeout = timeout;
  l.upgrade_timeout = 1000ms;
  l.max_payload = 1000;
  l.max_packets = 8;
  l.queue_bytes = 10000;
  l.max_sessions = 4;
  return l;
}

frame_ptr message(const std::string& text) { return make_frame(packet_type::message, text); }

struct fixture {
  clock::time_point t0 = clock::time_point{} + std::chrono::hours(1);
  std::vector<recording_handler*> handlers; // owned by their sessions
  server srv;
  int wakes = 0;

  explicit fixture(limits l = test_limits())
    : srv(l, [this](session&) {
        auto h = std::make_unique<recording_handler>();
        handlers.push_back(h.get());
        return h;
      }) {}

  server::http_result http(const std::string& method, const std::string& query,
                           const std::string& body = {}, clock::time_point now = {},
                           const std::string& content_type = "text/plain;charset=UTF-8") {
    request r{method, eio_query(query), content_type, body};
    return srv.handle_http(r, [this] { ++wakes; }, now == clock::time_point{} ? t0 : now);
  }
  // Opens a polling session; returns its sid.
  std::string handshake() {
    auto r = http("GET", "EIO=4&transport=polling");
    REQUIRE(r.answer);
    REQUIRE(r.answer->status == 200);
    rapidjson::Document d;
    d.Parse(r.answer->body.c_str() + 1);
    return d["sid"].GetString();
  }
  std::string q(const std::string& sid) { return "EIO=4&transport=polling&sid=" + sid; }
  // A GET that must be answered at once.
  http_answer poll(const std::string& sid, clock::time_point now = {}) {
    auto r = http("GET", q(sid), {}, now);
    REQUIRE(r.answer);
    return *r.answer;
  }
  http_answer post(const std::string& sid, const std::string& body, clock::time_point now = {}) {
    auto r = http("POST", q(sid), body, now);
    REQUIRE(r.answer);
    return *r.answer;
  }
};

void check_error(const http_answer& a, int status, int code) {
  CHECK(a.status == status);
  CHECK(a.content_type == "application/json");
  rapidjson::Document d;
  d.Parse(a.body.c_str());
  REQUIRE(d.IsObject());
  CHECK(d["code"].GetInt() == code);
  CHECK(d["message"].IsString());
}

} // namespace

TEST_CASE_METHOD(fixture, "the polling handshake answers the open packet with exactly its fields") {
  auto r = http("GET", "EIO=4&transport=polling&t=Nx1");
  REQUIRE(r.answer);
  CHECK(r.answer->status == 200);
  CHECK(r.answer->content_type == "text/plain; charset=UTF-8");
  REQUIRE(r.answer->body[0] == '0');
  rapidjson::Document d;
  d.Parse(r.answer->body.c_str() + 1);
  REQUIRE(d.IsObject());
  CHECK(d.MemberCount() == 5);
  CHECK(d["sid"].GetStringLength() == 20);
  REQUIRE(d["upgrades"].IsArray());
  REQUIRE(d["upgrades"].Size() == 1);
  CHECK(d["upgrades"][0] == "websocket");
  CHECK(d["pingInterval"].GetInt() == 300);
  CHECK(d["pingTimeout"].GetInt() == 200);
  CHECK(d["maxPayload"].GetInt() == 1000);
  CHECK(srv.size() == 1);
  CHECK(srv.find(d["sid"].GetString()));
}

TEST_CASE_METHOD(fixture, "bad requests get Engine.IO's JSON errors") {
  check_error(*http("GET", "transport=polling").answer, 400, 5);
  check_error(*http("GET", "EIO=abc&transport=polling").answer, 400, 5);
  check_error(*http("GET", "EIO=3&transport=polling").answer, 400, 5);
  check_error(*http("GET", "EIO=4").answer, 400, 0);
  check_error(*srv.handle_http({"GET", {}, "", ""}, [] {}, t0).answer, 400, 0);
  check_error(*http("GET", "EIO=4&transport=abc").answer, 400, 0);
  check_error(*http("POST", "EIO=4&transport=polling").answer, 400, 2);
  check_error(*http("PUT", "EIO=4&transport=polling").answer, 400, 2);
  check_error(*http("GET", "EIO=4&transport=polling&sid=nope").answer, 400, 1);
  check_error(*http("POST", "EIO=4&transport=polling&sid=nope", "4x").answer, 400, 1);
  check_error(*http("GET", "EIO=4&transport=polling&sid=%zz").answer, 400, 3);
  check_error(*http("GET", "EIO=4&transport=polling&sid=%4").answer, 400, 3);
  check_error(*http("GET", "EIO=4&transport=polling&transport=polling").answer, 400, 3);
  check_error(*http("GET", "#M6n3CjwAusPpB1fe_Lih").answer, 400, 3); // not a target
  check_error(*http("GET", "EIO=4&&=&transport&sid").answer, 400, 0);
  // A bad escape anywhere in the target is refused by the HTTP session (url_target) before
  // the endpoint sees it; parameters the endpoint does not read are otherwise ignored.
  check_error(*http("GET", "t=%zz&EIO=4&transport=polling").answer, 400, 3);
  CHECK(http("GET", "t=%7A&EIO=%34&transport=pol%6Cing").answer->status == 200);
  CHECK(srv.size() == 1);
  srv.shutdown("reset");
  // transport=websocket without a WebSocket upgrade
  check_error(*http("GET", "EIO=4&transport=websocket").answer, 400, 3);
  CHECK(srv.size() == 0);
  auto sid = handshake();
  check_error(*http("GET", "EIO=4&transport=websocket&sid=" + sid).answer, 400, 3);
  check_error(*http("DELETE", q(sid)).answer, 400, 3);
  // An escaped sid is decoded.
  std::string escaped;
  for (char c : sid)
    escaped += "%" + std::string(1, "0123456789ABCDEF"[uint8_t(c) >> 4])
               + "0123456789ABCDEF"[uint8_t(c) & 15];
  CHECK(post(sid, "4x").status == 200);
  CHECK(http("POST", "EIO=4&transport=polling&sid=" + escaped, "4y").answer->status == 200);
  CHECK(handlers.back()->messages == std::vector<std::string>{"x", "y"});
}

TEST_CASE_METHOD(fixture, "sessions are bounded per server") {
  for (int i = 0; i < 4; ++i)
    handshake();
  check_error(*http("GET", "EIO=4&transport=polling").answer, 503, 4);
  CHECK(srv.check_websocket(eio_query("EIO=4&transport=websocket")));
  CHECK(srv.size() == 4);
}

TEST_CASE_METHOD(fixture, "POSTed packets reach the handler; a GET drains what was pushed") {
  auto sid = handshake();
  auto a = post(sid, "4hello\x1e" "4world\x1e" "bAQIDBA==");
  CHECK(a.status == 200);
  CHECK(a.body == "ok");
  CHECK(a.content_type == "text/html");
  CHECK(handlers[0]->messages == std::vector<std::string>{"hello", "world", "<bin>\x01\x02\x03\x04"});
  CHECK(handlers[0]->batches == 1);
  auto s = srv.find(sid);
  REQUIRE(s->push(message("a")));
  REQUIRE(s->push(make_binary_frame("\x01\x02")));
  CHECK(s->queued_bytes() > 0);
  auto g = poll(sid);
  CHECK(g.status == 200);
  CHECK(g.body == "4a\x1e" "bAQI=");
  CHECK(s->queued_bytes() == 0);
}

TEST_CASE_METHOD(fixture, "a GET waits for a packet and is woken once") {
  auto sid = handshake();
  auto r = http("GET", q(sid));
  CHECK_FALSE(r.answer);
  REQUIRE(r.pending);
  CHECK(wakes == 0);
  r.pending->push(message("one"));
  CHECK(wakes == 1);
  r.pending->push(message("two"));
  CHECK(wakes == 1);
  auto a = r.pending->take_poll(t0);
  CHECK(a.body == "4one\x1e" "4two");
  // A take without a waiting GET is refused.
  check_error(r.pending->take_poll(t0), 400, 3);
}

TEST_CASE_METHOD(fixture, "a second concurrent GET closes the session") {
  auto sid = handshake();
  auto first = http("GET", q(sid));
  REQUIRE(first.pending);
  auto second = http("GET", q(sid) + "&t=burst");
  REQUIRE(second.answer);
  check_error(*second.answer, 400, 3);
  CHECK(wakes == 1);
  auto a = first.pending->take_poll(t0);
  CHECK(a.status == 200);
  CHECK(a.body == "1");
  CHECK(srv.size() == 0);
  CHECK(handlers[0]->closes == 1);
  CHECK(srv.closed(close_cause::protocol_error) == 1);
  check_error(poll(sid), 400, 1);
}

TEST_CASE_METHOD(fixture, "the server pings at pingInterval and a pong keeps the session") {
  auto sid = handshake();
  auto s = srv.find(sid);
  CHECK(s->next_deadline() == t0 + interval);
  s->tick(t0 + interval - 1ms);
  auto pending = http("GET", q(sid));
  REQUIRE(pending.pending);
  s->tick(t0 + interval);
  CHECK(wakes == 1);
  CHECK(pending.pending->take_poll(t0 + interval).body == "2");
  CHECK(s->next_deadline() == t0 + interval + timeout);
  auto pong_at = t0 + interval + 50ms;
  CHECK(post(sid, "3", pong_at).body == "ok");
  CHECK(s->next_deadline() == pong_at + interval);
  s->tick(t0 + interval + timeout + 1ms); // the first ping's deadline has passed: answered
  CHECK_FALSE(s->is_closed());
  // Three rounds, as the reference suite runs them.
  auto now = pong_at;
  for (int i = 0; i < 3; ++i) {
    now += interval;
    s->tick(now);
    CHECK(poll(sid, now).body == "2");
    CHECK(post(sid, "3", now + 10ms).body == "ok");
    now += 10ms;
  }
  CHECK_FALSE(s->is_closed());
  CHECK(handlers[0]->closes == 0);
}

TEST_CASE_METHOD(fixture, "no pong within pingTimeout closes the session") {
  auto sid = handshake();
  auto s = srv.find(sid);
  s->tick(t0 + interval);
  s->tick(t0 + interval + timeout - 1ms);
  CHECK_FALSE(s->is_closed());
  s->tick(t0 + interval + timeout);
  CHECK(s->is_closed());
  CHECK(handlers[0]->closes == 1);
  CHECK(handlers[0]->close_reason == "ping timeout");
  CHECK(srv.closed(close_cause::ping_timeout) == 1);
  CHECK(s->next_deadline() == clock::time_point::max());
  check_error(poll(sid, t0 + interval + timeout + 10ms), 400, 1);
  CHECK_FALSE(s->push(message("late")));
}

TEST_CASE_METHOD(fixture, "a close packet from the client ends a pending GET with a noop") {
  auto sid = handshake();
  auto pending = http("GET", q(sid));
  REQUIRE(pending.pending);
  CHECK(post(sid, "1").body == "ok");
  CHECK(pending.pending->take_poll(t0).body == "6");
  CHECK(srv.size() == 0);
  CHECK(handlers[0]->close_reason == "client closed");
  CHECK(srv.closed(close_cause::client) == 1);
  check_error(poll(sid), 400, 1);
}

TEST_CASE_METHOD(fixture, "malformed request bodies close the session") {
  const std::pair<std::string, std::string> bad[] = {
    {"abc", "text/plain"},
    {"", "text/plain"},
    {"4a\x1e\x1e" "4b", "text/plain"},
    {"b!!!", "text/plain"},
    {"4\xc3\x28", "text/plain"},                 // not UTF-8
    {"4hello", "application/octet-stream"},      // Engine.IO v3's binary bodies
    {"2", "text/plain"},                         // the client may not ping in v4
    {"0", "text/plain"},
    {"4\x1e" "4\x1e" "4\x1e" "4\x1e" "4\x1e" "4\x1e" "4\x1e" "4\x1e" "4", "text/plain"}, // 9 > 8
  };
  for (auto& [body, type] : bad) {
    INFO(body);
    auto sid = handshake();
    auto s = srv.find(sid); // keeps the session (and its handler) alive for the checks
    auto r = http("POST", q(sid), body, t0, type);
    REQUIRE(r.answer);
    check_error(*r.answer, 400, 3);
    CHECK_FALSE(srv.find(sid));
    check_error(poll(sid), 400, 1);
    CHECK(handlers.back()->closes == 1);
    CHECK(handlers.back()->messages.empty());
  }
  CHECK(srv.opened() == std::size(bad));
  CHECK(srv.closed(close_cause::protocol_error) == std::size(bad));
}

TEST_CASE_METHOD(fixture, "a body larger than maxPayload gets 413 and ends the session") {
  auto sid = handshake();
  auto a = post(sid, "4" + std::string(1000, 'x'));
  check_error(a, 413, 3);
  CHECK_FALSE(srv.find(sid));
  auto sid2 = handshake();
  CHECK(post(sid2, "4" + std::string(999, 'x')).status == 200);
}

TEST_CASE_METHOD(fixture, "GET answers are bounded by maxPayload; the rest waits for the next GET") {
  auto sid = handshake();
  auto s = srv.find(sid);
  for (int i = 0; i < 5; ++i)
    REQUIRE(s->push(message(std::string(300, char('a' + i)))));
  auto first = poll(sid).body;
  CHECK(first.size() <= 1000);
  CHECK(first == "4" + std::string(300, 'a') + "\x1e" "4" + std::string(300, 'b') + "\x1e" "4"
                   + std::string(300, 'c'));
  CHECK(poll(sid).body == "4" + std::string(300, 'd') + "\x1e" "4" + std::string(300, 'e'));
  // A single packet larger than maxPayload still goes out, alone.
  REQUIRE(s->push(message(std::string(1500, 'z'))));
  CHECK(poll(sid).body.size() == 1501);
}

TEST_CASE_METHOD(fixture, "the polling queue is bounded in bytes: past it the session closes") {
  auto sid = handshake();
  auto s = srv.find(sid);
  int pushed = 0;
  while (s->push(message(std::string(1000, 'x'))))
    ++pushed;
  CHECK(pushed == 9); // 9 frames of 1005 bytes fit in 10000
  CHECK(s->is_closed());
  CHECK_FALSE(srv.find(sid));
  // The handler hears of it at the next entry point; the deadline asks for one now.
  CHECK(handlers[0]->closes == 0);
  CHECK(s->next_deadline() == clock::time_point::min());
  s->tick(t0);
  CHECK(handlers[0]->closes == 1);
  CHECK(handlers[0]->close_reason == "slow consumer");
  CHECK(srv.closed(close_cause::slow_consumer) == 1);
}

TEST_CASE_METHOD(fixture, "an aborted pending GET closes the session") {
  auto sid = handshake();
  auto r = http("GET", q(sid));
  REQUIRE(r.pending);
  r.pending->poll_aborted(t0);
  CHECK(r.pending->is_closed());
  CHECK(handlers[0]->closes == 1);
  CHECK(srv.closed(close_cause::transport_closed) == 1);
  CHECK(srv.closed(close_cause::transport_closed) == 1);
  check_error(poll(sid), 400, 1);
}

TEST_CASE_METHOD(fixture, "a server close hands the queue and a close packet to the next GET") {
  auto sid = handshake();
  auto s = srv.find(sid);
  s->push(message("last words"));
  s->close(1001, "going away");
  CHECK_FALSE(s->push(message("too late")));
  CHECK(srv.find(sid)); // until the client has collected the close packet
  CHECK(post(sid, "4ignored").body == "ok");
  CHECK(handlers[0]->messages.empty());
  CHECK(poll(sid).body == "4last words\x1e" "1");
  CHECK_FALSE(srv.find(sid));
  CHECK(handlers[0]->closes == 1);
  CHECK(handlers[0]->close_reason == "going away");
  CHECK(srv.closed(close_cause::server) == 1);

  // With a GET waiting, it is answered at once.
  auto sid2 = handshake();
  auto r = http("GET", q(sid2));
  REQUIRE(r.pending);
  r.pending->close(1001, "going away");
  CHECK(wakes == 1);
  CHECK(r.pending->take_poll(t0).body == "1");
  CHECK(r.pending->is_closed());

  // A client that never comes back is dropped after pingTimeout.
  auto sid3 = handshake();
  auto s3 = srv.find(sid3);
  s3->close(1001, "going away");
  CHECK(s3->next_deadline() == clock::time_point::min()); // tick now: starts the count
  s3->tick(t0);
  CHECK(s3->next_deadline() == t0 + timeout);
  s3->tick(t0 + timeout - 1ms);
  CHECK_FALSE(s3->is_closed());
  s3->tick(t0 + timeout);
  CHECK(s3->is_closed());
  CHECK_FALSE(srv.find(sid3));
}

TEST_CASE_METHOD(fixture, "the upgrade: probe, noop to the pending GET, upgrade, then WebSocket only") {
  auto sid = handshake();
  auto s = srv.find(sid);
  auto pending = http("GET", q(sid));
  REQUIRE(pending.pending);
  auto query = "EIO=4&transport=websocket&sid=" + sid;
  CHECK_FALSE(srv.check_websocket(eio_query(query)));
  auto link = std::make_shared<fake_link>();
  REQUIRE(srv.attach_websocket(eio_query(query), link, t0) == s);
  CHECK(s->upgrading());
  CHECK(link->frames.empty()); // no open packet on a probe
  // A second WebSocket while one probes is refused.
  CHECK_FALSE(srv.attach_websocket(eio_query(query), std::make_shared<fake_link>(), t0));

  s->ws_message(*link, false, "2probe", t0);
  CHECK(link->take() == std::vector<std::string>{"3probe"});
  CHECK(wakes == 1);
  CHECK(pending.pending->take_poll(t0).body == "6");
  CHECK(poll(sid).body == "6"); // while upgrading, a GET never waits
  s->push(message("queued before the upgrade"));
  CHECK(post(sid, "4still polling").body == "ok");

  s->ws_message(*link, false, "5", t0);
  CHECK(s->current_transport() == transport::websocket);
  CHECK_FALSE(s->upgrading());
  CHECK(link->take() == std::vector<std::string>{"4queued before the upgrade"});
  s->push(message("after"));
  CHECK(link->take() == std::vector<std::string>{"4after"});
  s->ws_message(*link, false, "4hello", t0);
  CHECK(handlers[0]->messages == std::vector<std::string>{"still polling", "hello"});

  // Polling and further WebSockets with this sid are refused.
  check_error(poll(sid), 400, 3);
  check_error(post(sid, "4x"), 400, 3);
  auto err = srv.check_websocket(eio_query(query));
  REQUIRE(err);
  check_error(*err, 400, 3);
  CHECK_FALSE(srv.attach_websocket(eio_query(query), std::make_shared<fake_link>(), t0));

  // The heartbeat goes on over the WebSocket.
  s->tick(t0 + interval);
  CHECK(link->take() == std::vector<std::string>{"2"});
  s->ws_message(*link, false, "3", t0 + interval + 10ms);
  CHECK(s->next_deadline() == t0 + interval + 10ms + interval);
  CHECK_FALSE(s->is_closed());
}

TEST_CASE_METHOD(fixture, "a failed upgrade leaves the session on polling") {
  auto sid = handshake();
  auto s = srv.find(sid);
  auto query = "EIO=4&transport=websocket&sid=" + sid;

  auto bad = std::make_shared<fake_link>();
  REQUIRE(srv.attach_websocket(eio_query(query), bad, t0));
  s->ws_message(*bad, false, "4not a probe", t0);
  CHECK(bad->closed);
  CHECK_FALSE(s->upgrading());

  auto early = std::make_shared<fake_link>();
  REQUIRE(srv.attach_websocket(eio_query(query), early, t0));
  s->ws_message(*early, false, "5", t0); // upgrade before the probe
  CHECK(early->closed);

  auto gone = std::make_shared<fake_link>();
  REQUIRE(srv.attach_websocket(eio_query(query), gone, t0));
  s->ws_message(*gone, false, "2probe", t0);
  s->ws_closed(*gone, t0);
  CHECK_FALSE(s->upgrading());

  auto slow = std::make_shared<fake_link>();
  REQUIRE(srv.attach_websocket(eio_query(query), slow, t0));
  CHECK(s->next_deadline() == t0 + interval); // the ping comes before the upgrade timeout
  s->tick(t0 + 1000ms);
  CHECK(slow->closed);
  CHECK(slow->reason == "upgrade timeout");
  CHECK_FALSE(s->upgrading());

  CHECK(s->current_transport() == transport::polling);
  CHECK_FALSE(s->is_closed());
  s->ws_message(*slow, false, "4from a dead link", t0); // ignored
  CHECK(post(sid, "4x").body == "ok");
  CHECK(handlers[0]->messages == std::vector<std::string>{"x"});
}

TEST_CASE_METHOD(fixture, "a WebSocket session opens on the socket and speaks packets") {
  auto link = std::make_shared<fake_link>();
  CHECK_FALSE(srv.check_websocket(eio_query("EIO=4&transport=websocket")));
  auto s = srv.attach_websocket(eio_query("EIO=4&transport=websocket"), link, t0);
  REQUIRE(s);
  auto frames = link->take();
  REQUIRE(frames.size() == 1);
  REQUIRE(frames[0][0] == '0');
  rapidjson::Document d;
  d.Parse(frames[0].c_str() + 1);
  CHECK(d.MemberCount() == 5);
  CHECK(d["upgrades"].Size() == 0);
  CHECK(d["sid"] == s->sid().c_str());

  s->ws_message(*link, false, "4hello", t0);
  s->ws_message(*link, true, "\x01\x02", t0);
  s->ws_message(*link, false, "6", t0); // noop: ignored
  CHECK(handlers[0]->messages == std::vector<std::string>{"hello", "<bin>\x01\x02"});
  CHECK(handlers[0]->batches == 3);
  s->push(message("out"));
  s->push(make_binary_frame("\x03"));
  CHECK(link->take() == std::vector<std::string>{"4out", "<bin>\x03"});
  // Polling with this sid is refused.
  check_error(poll(s->sid()), 400, 3);

  SECTION("a bad packet closes it") {
    s->ws_message(*link, false, "abc", t0);
    CHECK(link->closed);
    CHECK(s->is_closed());
    CHECK(handlers[0]->closes == 1);
  }
  SECTION("text that is not UTF-8 closes it") {
    s->ws_message(*link, false, "4\xff", t0);
    CHECK(s->is_closed());
  }
  SECTION("a message larger than maxPayload closes it") {
    s->ws_message(*link, true, std::string(1001, 'x'), t0);
    CHECK(s->is_closed());
  }
  SECTION("a close packet closes it") {
    s->ws_message(*link, false, "1", t0);
    CHECK(link->closed);
    CHECK(handlers[0]->close_reason == "client closed");
  }
  SECTION("the end of the socket closes it") {
    s->ws_closed(*link, t0);
    CHECK(s->is_closed());
    CHECK(handlers[0]->closes == 1);
    CHECK(srv.size() == 0);
  }
  SECTION("no pong closes it") {
    s->tick(t0 + interval);
    CHECK(link->take() == std::vector<std::string>{"2"});
    s->tick(t0 + interval + timeout);
    CHECK(link->closed);
    CHECK(handlers[0]->close_reason == "ping timeout");
  }
  SECTION("a server close sends the WebSocket close code") {
    s->close(1001, "going away");
    CHECK(link->closed);
    CHECK(link->code == 1001);
    CHECK(handlers[0]->closes == 0);
    s->ws_closed(*link, t0); // the glue reports the end of the socket
    CHECK(handlers[0]->closes == 1);
    CHECK(handlers[0]->close_reason == "going away");
  }
}

TEST_CASE_METHOD(fixture, "shutdown ends every session and tells each handler once") {
  handshake();
  auto link = std::make_shared<fake_link>();
  srv.attach_websocket(eio_query("EIO=4&transport=websocket"), link, t0);
  auto alive = srv.sessions(); // the handlers live as long as their sessions
  srv.shutdown("node stopping");
  CHECK(srv.size() == 0);
  CHECK(link->closed);
  REQUIRE(handlers.size() == 2);
  for (auto* h : handlers) {
    CHECK(h->closes == 1);
    CHECK(h->close_reason == "node stopping");
  }
}

TEST_CASE("pushes from many threads reach a polling client once each, in each thread's order") {
  limits l = test_limits();
  l.queue_bytes = 1 << 24;
  l.max_payload = 2000;
  server srv(l, [](session&) { return std::make_unique<recording_handler>(); });
  auto t0 = clock::time_point{} + std::chrono::hours(1);
  auto open = srv.handle_http({"GET", eio_query("EIO=4&transport=polling"), "", ""}, [] {}, t0);
  rapidjson::Document d;
  d.Parse(open.answer->body.c_str() + 1);
  std::string q = std::string("EIO=4&transport=polling&sid=") + d["sid"].GetString();
  auto s = srv.find(d["sid"].GetString());

  constexpr int threads = 4, per_thread = 2000;
  std::vector<std::thread> pushers;
  for (int t = 0; t < threads; ++t)
    pushers.emplace_back([&, t] {
      for (int k = 0; k < per_thread; ++k)
        REQUIRE(s->push(message(std::to_string(t) + ":" + std::to_string(k))));
    });

  std::mutex mtx;
  std::condition_variable cv;
  bool woken = false;
  std::vector<int> next(threads, 0);
  int received = 0, waits = 0;
  while (received < threads * per_thread) {
    auto r = srv.handle_http({"GET", eio_query(q), "", ""}, [&] {
      std::lock_guard<std::mutex> g(mtx);
      woken = true;
      cv.notify_all();
    }, t0);
    http_answer a;
    if (r.answer) {
      a = *r.answer;
    } else {
      ++waits;
      std::unique_lock<std::mutex> lock(mtx);
      REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return woken; }));
      woken = false;
      lock.unlock();
      a = r.pending->take_poll(t0);
    }
    REQUIRE(a.status == 200);
    CHECK(a.body.size() <= 2000);
    std::vector<packet> packets;
    REQUIRE(decode_payload(a.body, 1000, packets) == payload_error::none);
    for (auto& p : packets) {
      if (p.type == packet_type::noop)
        continue;
      auto colon = p.data.find(':');
      int t = std::stoi(p.data.substr(0, colon));
      int k = std::stoi(p.data.substr(colon + 1));
      REQUIRE(k == next[size_t(t)]); // no loss, no repeat, per-thread order
      ++next[size_t(t)];
      ++received;
    }
  }
  for (auto& p : pushers)
    p.join();
  CHECK(s->queued_bytes() == 0);
  CHECK_FALSE(s->is_closed());
  INFO("GETs that waited: " << waits);
}
