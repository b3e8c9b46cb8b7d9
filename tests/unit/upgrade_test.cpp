// The WebSocket upgrade decision: RFC 6455 4.2.1 checks, the 101 answer, and the native
// endpoint's query rules, token and refusals.
#include "net/http_parse.hpp"
#include "net/upgrade.hpp"
#include "support/reply_fields.hpp"

#include <boost/beast/http/write.hpp> // operator<< for INFO

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

using namespace chat::net;
using chat::test::reply_field;

namespace {

const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";

http_request upgrade_request(const std::string& target = "/ws?user=alice") {
  http_request req{http::verb::get, target, 11};
  req.set(http::field::host, "chat.example");
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::sec_websocket_version, "13");
  req.set(http::field::sec_websocket_key, key);
  return req;
}

native_ws_decision decide(const http_request& req, native_ws_policy policy = {}) {
  std::string error;
  auto t = parse_target(std::string(req.target()), error);
  REQUIRE(t);
  return decide_native_ws(req, *t, policy);
}

int status(const native_ws_decision& d) {
  return d.upgrade.accepted ? 101 : d.upgrade.refusal.status;
}

std::string error_text(const http_reply& r) {
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  REQUIRE(d.IsObject());
  return d["error"].GetString();
}

} // namespace

TEST_CASE("a valid handshake gets the RFC 6455 answer") {
  CHECK(websocket_accept_key(key) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  auto d = decide(upgrade_request());
  REQUIRE(d.upgrade.accepted);
  CHECK(d.upgrade.response
        == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  CHECK(d.user == "alice");
  CHECK_FALSE(d.ack_persisted);

  // Token lists and letter case as browsers and proxies send them.
  auto req = upgrade_request("/ws?user=bob&ack=persisted");
  req.set(http::field::connection, "keep-alive, Upgrade");
  req.set(http::field::upgrade, "WebSocket");
  auto d2 = decide(req);
  REQUIRE(d2.upgrade.accepted);
  CHECK(d2.user == "bob");
  CHECK(d2.ack_persisted);
  CHECK(decide(upgrade_request("/ws")).user.empty()); // the endpoint names a guest
  CHECK(decide(upgrade_request("/ws?user=")).user.empty());
}

TEST_CASE("handshakes that break RFC 6455 are refused with the status it asks for") {
  SECTION("not GET: 405 with Allow") {
    auto req = upgrade_request();
    req.method(http::verb::post);
    auto d = decide(req);
    CHECK(status(d) == 405);
    CHECK(reply_field(d.upgrade.refusal, "Allow") == "GET");
  }
  SECTION("no upgrade fields, or HTTP/1.0: 426 with Upgrade") {
    auto plain = upgrade_request();
    plain.erase(http::field::upgrade);
    CHECK(status(decide(plain)) == 426);
    CHECK(reply_field(decide(plain).upgrade.refusal, "Upgrade") == "websocket");
    auto no_conn = upgrade_request();
    no_conn.set(http::field::connection, "keep-alive");
    CHECK(status(decide(no_conn)) == 426);
    auto old = upgrade_request();
    old.version(10);
    CHECK(status(decide(old)) == 426);
    auto other = upgrade_request();
    other.set(http::field::upgrade, "h2c");
    CHECK(status(decide(other)) == 426);
  }
  SECTION("another version: 426 naming 13") {
    auto req = upgrade_request();
    req.set(http::field::sec_websocket_version, "8");
    auto d = decide(req);
    CHECK(status(d) == 426);
    CHECK(reply_field(d.upgrade.refusal, "Sec-WebSocket-Version") == "13");
  }
  SECTION("missing or malformed fields: 400") {
    std::vector<http_request> bad;
    auto no_key = upgrade_request();
    no_key.erase(http::field::sec_websocket_key);
    bad.push_back(no_key);
    for (std::string k : {"", "short==", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=!",
                          "dGhlIHNhbXBsZSBub2*jZQ==", "dGhlIHNhbXBsZSBub25jZQ===",
                          "dGhlIHNhbXBs ZSBub25jZQ=="}) {
      auto r = upgrade_request();
      r.set(http::field::sec_websocket_key, k);
      bad.push_back(r);
    }
    auto two_keys = upgrade_request();
    two_keys.insert(http::field::sec_websocket_key, key);
    bad.push_back(two_keys);
    auto no_version = upgrade_request();
    no_version.erase(http::field::sec_websocket_version);
    bad.push_back(no_version);
    auto no_host = upgrade_request();
    no_host.erase(http::field::host);
    bad.push_back(no_host);
    for (auto& r : bad) {
      INFO(r);
      auto d = decide(r);
      CHECK(status(d) == 400);
      CHECK(error_text(d.upgrade.refusal).find("bad WebSocket handshake") == 0);
    }
  }
}

TEST_CASE("the native endpoint's query and policy") {
  CHECK(status(decide(upgrade_request("/ws?user=a+b"))) == 400);       // space
  CHECK(status(decide(upgrade_request("/ws?user=" + std::string(65, 'x')))) == 400);
  CHECK(status(decide(upgrade_request("/ws?user=" + std::string(64, 'x')))) == 101);
  CHECK(status(decide(upgrade_request("/ws?user=%C3%A9"))) == 400);    // UTF-8, not allowed
  CHECK(status(decide(upgrade_request("/ws?user=alice&user=bob"))) == 400);
  CHECK(status(decide(upgrade_request("/ws?user=alice&ack=never"))) == 400);
  CHECK(status(decide(upgrade_request("/ws?user=alice&ack=seq&ack=seq"))) == 400);
  CHECK(status(decide(upgrade_request("/ws?user=alice&other=x&other=y"))) == 101);
  CHECK(error_text(decide(upgrade_request("/ws?user=a&user=b")).upgrade.refusal)
        == "query parameter 'user' given more than once");

  native_ws_policy closed;
  closed.allow_anonymous = false;
  CHECK(status(decide(upgrade_request(), closed)) == 401);
  native_ws_policy full;
  full.accepting = false;
  CHECK(status(decide(upgrade_request(), full)) == 503);
  // The handshake is judged first: a bad one is 4xx even on a full node.
  auto post = upgrade_request();
  post.method(http::verb::post);
  CHECK(status(decide(post, full)) == 405);
}

TEST_CASE("the native endpoint's token: Authorization: Bearer or ?token=, once") {
  auto bearer = [](const std::string& value, const std::string& target = "/ws") {
    auto req = upgrade_request(target);
    req.set(http::field::authorization, value);
    return req;
  };
  auto with_token = decide(bearer("Bearer abc.def"));
  REQUIRE(status(with_token) == 101);
  CHECK(with_token.token == "abc.def");
  CHECK(decide(bearer("bEaReR   abc")).token == "abc"); // scheme in any case, spaces skipped
  CHECK(decide(upgrade_request("/ws?token=t1")).token == "t1");
  // A Bearer without a token is refused, never taken for an anonymous connection.
  for (const char* bad : {"Bearer", "Bearer ", "Bearer    ", "Basic abc", "Bearerabc"}) {
    INFO(bad);
    auto d = decide(bearer(bad));
    CHECK(status(d) == 400);
    CHECK(error_text(d.upgrade.refusal) == "Authorization must be 'Bearer TOKEN'");
  }
  CHECK(status(decide(bearer("Bearer abc", "/ws?token=abc"))) == 400);
  CHECK(status(decide(upgrade_request("/ws?token="))) == 400);
}

TEST_CASE("whole requests from bytes: parser limits and routing") {
  http_limits limits;
  limits.header_limit = 1024;
  limits.body_limit = 16;
  http_request req;
  std::string ok = "GET /ws?user=alice HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                   "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Key: " + key + "\r\n\r\n\x81\x80";
  size_t used = 0;
  REQUIRE_FALSE(parse_request(ok, limits, req, &used));
  CHECK(used == ok.size() - 2); // the frame after the request is left for the session
  CHECK(req.target() == "/ws?user=alice");

  CHECK(parse_request("GET / HTTP/1.1\r\nHost: x\r\n", limits, req) == http::error::need_more);
  auto big_header = "GET / HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n";
  auto ec = parse_request(big_header, limits, req);
  CHECK(ec == http::error::header_limit);
  CHECK(parse_error_reply(ec).status == 431);
  ec = parse_request("POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n", limits, req);
  CHECK(ec == http::error::body_limit);
  CHECK(parse_error_reply(ec).status == 413);
  CHECK(parse_error_kind(ec) == http_error::too_large);
  ec = parse_request("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", limits,
                     req);
  CHECK(ec);
  CHECK(parse_error_reply(ec).status == 400);
  CHECK(parse_error_kind(ec) == http_error::malformed);
  CHECK(parse_request("\x16\x03\x01\x02\x00", limits, req)); // TLS hello on the plain port

  route_table routes;
  int served = 0;
  routes.add("/ws", [&](http_exchange&) { ++served; });
  routes.add("/socket.io/", [&](http_exchange&) { ++served; });
  url_target target;
  http_reply refusal;
  http_request get{http::verb::get, "/ws?user=x", 11};
  CHECK(route_request(routes, get, target, refusal) != nullptr);
  CHECK(target.path == "/ws");
  get.target("/nope");
  CHECK(route_request(routes, get, target, refusal) == nullptr);
  CHECK(refusal.status == 404);
  get.target("/ws?user=%zz");
  CHECK(route_request(routes, get, target, refusal) == nullptr);
  CHECK(refusal.status == 400);
  CHECK(served == 0); // deciding the route runs no handler
}

TEST_CASE("route prefixes: exact paths and subtrees, longest first") {
  route_table routes;
  auto none = [](http_exchange&) {};
  routes.add("/ws", none);
  routes.add("/healthz", none);
  routes.add("/socket.io/", none);
  routes.add("/api/", none);
  routes.add("/api/admin/", none);
  CHECK(routes.match("/ws") == "/ws");
  CHECK(routes.match("/ws/") == "");
  CHECK(routes.match("/wsx") == "");
  CHECK(routes.match("/socket.io/") == "/socket.io/");
  CHECK(routes.match("/socket.io/x/y") == "/socket.io/");
  CHECK(routes.match("/socket.io") == "");
  CHECK(routes.match("/api/login") == "/api/");
  CHECK(routes.match("/api/admin/x") == "/api/admin/");
  CHECK(routes.match("/") == "");
  CHECK(routes.find("/nope") == nullptr);
  CHECK_THROWS(routes.add("ws", none));
  route_table everything;
  everything.add("/", none);
  CHECK(everything.match("/anything/at/all") == "/");
}
