// End-to-end: the HTTP side of a live node with exact bytes on raw sockets — keep-alive
// within its bounds (requests per connection, header and body limits, request timeout),
// answers that are JSON whatever the path holds, and the WebSocket upgrade's refusals and
// its hand-over of bytes sent right behind the request.
#include "support/http_get.hpp"
#include "support/node_process.hpp"
#include "support/raw_socket.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";

std::string body_of(const std::string& response) {
  auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? std::string() : response.substr(at + 4);
}

std::string json_error(const std::string& response) {
  rapidjson::Document d;
  auto body = body_of(response);
  d.Parse(body.c_str());
  REQUIRE(d.IsObject());
  REQUIRE(d.HasMember("error"));
  return d["error"].GetString();
}

double metric(uint16_t admin_port, const std::string& series) {
  auto text = http_get(admin_port, "/metrics").body;
  auto pos = text.find("\n" + series + " ");
  REQUIRE(pos != std::string::npos);
  return std::stod(text.substr(pos + series.size() + 2));
}

std::string upgrade(const std::string& target, const std::string& extra = "",
                    const std::string& method = "GET", const std::string& version = "13") {
  return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
         "Upgrade: websocket\r\nSec-WebSocket-Version: " + version + "\r\n" + extra
         + "\r\n";
}

// Status of the answer to `request` sent alone on a fresh connection.
std::string ask(uint16_t port, const std::string& request) {
  raw_socket s(port);
  REQUIRE(s.send(request));
  auto r = s.read_response(5s);
  INFO(request);
  REQUIRE(!r.empty());
  return r;
}

} // namespace

TEST_CASE("keep-alive connections live within their bounds") {
  node_process node({"--storage.backend=memory", "--net.http-max-requests=3",
                     "--net.http-timeout=1s", "--net.http-header-limit=2048",
                     "--net.http-body-limit=1024"});
  SECTION("several requests, pipelined, then closed after the last allowed one") {
    raw_socket s(node.port());
    REQUIRE(s.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto first = s.read_response(5s);
    CHECK(status_of(first) == 200);
    CHECK(body_of(first) == R"({"status":"ok"})");
    auto second = s.read_response(5s);
    CHECK(status_of(second) == 404);
    CHECK(json_error(second) == "not found: /nope");
    REQUIRE(s.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto third = s.read_response(5s);
    CHECK(status_of(third) == 200);
    CHECK(third.find("Connection: close\r\n") != std::string::npos);
    CHECK(s.read_until_closed(5s));
  }
  SECTION("a request that never completes is cut off after net.http-timeout") {
    raw_socket s(node.port());
    REQUIRE(s.send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
    auto start = std::chrono::steady_clock::now();
    std::string got;
    CHECK(s.read_until_closed(10s, &got));
    CHECK(got.empty());
    CHECK(std::chrono::steady_clock::now() - start >= 900ms);
    CHECK(metric(node.admin_port(), "chat_http_errors_total{reason=\"timeout\"}") == 1);
    // An idle keep-alive connection ends the same way, without counting as an error.
    raw_socket idle(node.port());
    REQUIRE(idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK(status_of(idle.read_response(5s)) == 200);
    CHECK(idle.read_until_closed(10s));
    CHECK(metric(node.admin_port(), "chat_http_errors_total{reason=\"timeout\"}") == 1);
  }
  SECTION("over a limit or malformed: answered, counted, closed") {
    for (auto [request, status] : std::vector<std::pair<std::string, int>>{
           {"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(4000, 'a') + "\r\n\r\n",
            431},
           {"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n", 413},
           {"POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            "401\r\n" + std::string(0x401, 'a') + "\r\n0\r\n\r\n",
            413},
           {"GARBAGE\r\n\r\n", 400},
           {"GET /healthz HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400}}) {
      INFO(request.substr(0, 60));
      raw_socket s(node.port());
      REQUIRE(s.send(request));
      auto r = s.read_response(5s);
      CHECK(status_of(r) == status);
      CHECK(!json_error(r).empty());
      CHECK(s.read_until_closed(5s));
    }
    CHECK(metric(node.admin_port(), "chat_http_errors_total{reason=\"too_large\"}") == 3);
    CHECK(metric(node.admin_port(), "chat_http_errors_total{reason=\"malformed\"}") == 2);
  }
  SECTION("targets are decoded strictly; error texts are escaped JSON") {
    CHECK(status_of(ask(node.port(), "GET /ws?user=%zz HTTP/1.1\r\nHost: x\r\n\r\n")) == 400);
    CHECK(status_of(ask(node.port(), "GET http://x/healthz HTTP/1.1\r\nHost: x\r\n\r\n")) == 400);
    CHECK(metric(node.admin_port(), "chat_http_errors_total{reason=\"malformed\"}") == 2);
    // Quotes and backslashes in a name are escaped, not dropped.
    auto r = http_get(node.admin_port(), "/admin/rooms/a%22b%5Cc");
    CHECK(r.status == 404);
    CHECK(r.body == R"({"error":"no room 'a\"b\\c'"})");
  }
}

TEST_CASE("WebSocket upgrades: refusals with their status, and the hand-over") {
  node_process node({"--storage.backend=memory", "--net.max-connections=2"});
  auto port = node.port();
  auto k = "Sec-WebSocket-Key: " + key + "\r\n";

  auto plain = ask(port, "GET /ws?user=a HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(status_of(plain) == 426);
  CHECK(plain.find("Upgrade: websocket\r\n") != std::string::npos);
  auto post = ask(port, upgrade("/ws?user=a", k, "POST"));
  CHECK(status_of(post) == 405);
  CHECK(post.find("Allow: GET\r\n") != std::string::npos);
  auto v8 = ask(port, upgrade("/ws?user=a", k, "GET", "8"));
  CHECK(status_of(v8) == 426);
  CHECK(v8.find("Sec-WebSocket-Version: 13\r\n") != std::string::npos);
  CHECK(status_of(ask(port, upgrade("/ws?user=a", "Sec-WebSocket-Key: short\r\n"))) == 400);
  CHECK(status_of(ask(port, upgrade("/ws?user=a", ""))) == 400);
  auto twice = ask(port, upgrade("/ws?user=alice&user=mallory", k));
  CHECK(status_of(twice) == 400);
  CHECK(json_error(twice) == "query parameter 'user' given more than once");
  CHECK(status_of(ask(port, upgrade("/ws?user=%FF", k))) == 400);
  CHECK(status_of(ask(port, upgrade("/ws?user=a+b", k))) == 400);
  CHECK(status_of(ask(port, upgrade("/ws?user=a&ack=never", k))) == 400);

  // Accepted: a ping sent in the same write as the request reaches the session.
  raw_socket ws(port);
  REQUIRE(ws.send(upgrade("/ws?user=al%69ce", k) + std::string("\x89\x80\x01\x02\x03\x04", 6)));
  auto head = ws.read_response(5s);
  CHECK(status_of(head) == 101);
  CHECK(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != std::string::npos);
  std::string frames;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while ((frames.find(std::string("\x8a\x00", 2)) == std::string::npos
          || frames.find(R"("user":"alice")") == std::string::npos)
         && std::chrono::steady_clock::now() < deadline)
    frames += ws.receive(500ms);
  CHECK(frames.find(std::string("\x8a\x00", 2)) != std::string::npos); // the pong
  CHECK(frames.find(R"("op":"hello")") != std::string::npos);
  CHECK(frames.find(R"("user":"alice")") != std::string::npos);

  // Full (net.max-connections=2): 503, and the node keeps serving.
  raw_socket second(port);
  REQUIRE(second.send(upgrade("/ws?user=bob", k)));
  CHECK(status_of(second.read_response(5s)) == 101);
  auto full = ask(port, upgrade("/ws?user=carol", k));
  CHECK(status_of(full) == 503);
  CHECK(status_of(ask(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")) == 200);
}

TEST_CASE("without anonymous access the native endpoint answers 401") {
  node_process node({"--storage.backend=memory", "--security.allow-anonymous=false"});
  auto r = ask(node.port(), upgrade("/ws?user=a", "Sec-WebSocket-Key: " + key + "\r\n"));
  CHECK(status_of(r) == 401);
  CHECK(json_error(r) == "authentication required");
}
