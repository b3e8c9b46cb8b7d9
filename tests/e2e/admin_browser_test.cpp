// End-to-end: a web page the operator opens cannot act on the admin endpoint or read user
// data from it. Each request below is one a browser would send for a hostile page (simple
// cross-origin POSTs, forms, DNS-rebound names); the victim's connection must survive all
// of them, and the same request from the endpoint's own origin must still work.
#include "support/http_get.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

using namespace chat::test;

namespace {

double metric(uint16_t admin_port, const std::string& series) {
  auto text = http_get(admin_port, "/metrics").body;
  auto pos = text.find("\n" + series + " ");
  REQUIRE(pos != std::string::npos);
  return std::stod(text.substr(pos + series.size() + 2));
}

void still_connected(ws_client& c) {
  c.send(R"({"op":"ping"})");
  CHECK(c.next_op("pong").op() == "pong");
}

} // namespace

TEST_CASE("state changes need a JSON POST from no other origin") {
  node_process node({"--storage.backend=memory"});
  ws_client victim(node.port(), "user=victim");
  const auto own = "http://127.0.0.1:" + std::to_string(node.admin_port());
  const std::string kick = "/admin/users/victim/kick";
  auto post = [&](http_fields fields, const std::string& body = "{}") {
    return http_request(node.admin_port(), "POST", kick, fields, body);
  };

  // What a hostile page sends without a preflight: text/plain, cross-origin.
  auto r = post({{"Origin", "http://evil.example"}, {"Content-Type", "text/plain"}}, "x");
  CHECK(r.status == 403);
  CHECK(r.body == R"({"error":"cross-origin requests are refused"})");
  still_connected(victim);

  // Without a JSON content type the answer is no, whatever the origin (or none).
  CHECK(post({{"Content-Type", "text/plain"}}, "x").status == 415);
  CHECK(post({{"Origin", own}, {"Content-Type", "text/plain"}}, "x").status == 415);
  CHECK(post({{"Origin", own}, {"Content-Type", "application/x-www-form-urlencoded"}}, "a=b")
          .status
        == 415);
  CHECK(post({{"Content-Type", "multipart/form-data; boundary=x"}}, "--x--").status == 415);
  CHECK(post({}, "").status == 415);
  CHECK(post({{"Content-Type", "application/jsonp"}}).status == 415);
  still_connected(victim);

  // JSON from another origin, from a sandboxed page, or marked cross-site by the browser.
  CHECK(post({{"Origin", "http://evil.example"}, {"Content-Type", "application/json"}}).status
        == 403);
  CHECK(post({{"Origin", "null"}, {"Content-Type", "application/json"}}).status == 403);
  CHECK(post({{"Origin", "http://localhost:1"}, {"Content-Type", "application/json"}}).status
        == 403);
  CHECK(post({{"Sec-Fetch-Site", "cross-site"}, {"Content-Type", "application/json"}}).status
        == 403);
  CHECK(post({{"Sec-Fetch-Site", "same-site"}, {"Content-Type", "application/json"}}).status
        == 403);
  // A DNS-rebound name reaching the loopback port.
  CHECK(post({{"Host", "evil.example:" + std::to_string(node.admin_port())},
              {"Content-Type", "application/json"}})
          .status
        == 403);
  // GET never changes state.
  CHECK(http_get(node.admin_port(), kick).status == 404);
  still_connected(victim);

  CHECK(metric(node.admin_port(), "chat_admin_refused_total{reason=\"cross_origin\"}") == 6);
  CHECK(metric(node.admin_port(), "chat_admin_refused_total{reason=\"not_json\"}") == 6);
  CHECK(metric(node.admin_port(), "chat_admin_refused_total{reason=\"foreign_host\"}") == 1);

  // The endpoint's own origin (and a parameterised JSON type) may.
  auto ok = post({{"Origin", own},
                  {"Sec-Fetch-Site", "same-origin"},
                  {"Content-Type", "application/json; charset=utf-8"}});
  CHECK(ok.status == 200);
  CHECK(ok.body == R"({"kicked":1})");
  CHECK(victim.closed_within(std::chrono::milliseconds(5000)));
}

TEST_CASE("reads of user data refuse other origins") {
  node_process node({"--storage.backend=memory"});
  ws_client alice(node.port(), "user=alice");
  alice.join("r");
  const auto port = std::to_string(node.admin_port());
  for (std::string path : {"/admin/users", "/admin/connections", "/admin/rooms/r"}) {
    INFO(path);
    auto get = [&](http_fields fields) {
      return http_request(node.admin_port(), "GET", path, fields).status;
    };
    CHECK(get({}) == 200);
    CHECK(get({{"Origin", "http://127.0.0.1:" + port}}) == 200);
    CHECK(get({{"Origin", "http://localhost:" + port}, {"Sec-Fetch-Site", "same-origin"}}) == 200);
    CHECK(get({{"Sec-Fetch-Site", "none"}}) == 200); // typed into the address bar
    CHECK(get({{"Origin", "http://evil.example"}}) == 403);
    CHECK(get({{"Origin", "https://127.0.0.1:" + port}}) == 403);
    CHECK(get({{"Sec-Fetch-Site", "cross-site"}}) == 403);
    CHECK(get({{"Host", "rebound.example:" + port}}) == 403);
  }
  // Liveness and metrics stay open to any monitor.
  CHECK(http_request(node.admin_port(), "GET", "/healthz", {{"Origin", "http://evil.example"}})
          .status
        == 200);
  CHECK(http_request(node.admin_port(), "GET", "/metrics", {{"Host", "monitor.example"}}).status
        == 200);
}
