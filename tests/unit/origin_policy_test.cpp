// The admin endpoint's browser checks: which origins, fetch sites, hosts and content types
// pass for reads and for state changes, on loopback, specific and wildcard addresses.
#include "net/origin_policy.hpp"

#include <catch2/catch.hpp>

using namespace chat::net;
namespace ip = boost::asio::ip;

namespace {

http_request request(http::verb method, std::vector<std::pair<std::string, std::string>> fields) {
  http_request req{method, "/admin/users", 11};
  for (auto& [n, v] : fields)
    req.set(n, v);
  return req;
}

origin_refusal read(const origin_policy& p, std::vector<std::pair<std::string, std::string>> f) {
  return p.check_read(request(http::verb::get, std::move(f)));
}

origin_refusal write(const origin_policy& p, std::vector<std::pair<std::string, std::string>> f) {
  return p.check_write(request(http::verb::post, std::move(f)));
}

const auto none = origin_refusal::none;
const auto cross = origin_refusal::cross_origin;
const auto host = origin_refusal::foreign_host;
const auto not_json = origin_refusal::not_json;

} // namespace

TEST_CASE("loopback admin: loopback names and the machine's name are ours") {
  origin_policy p({ip::make_address("127.0.0.1"), 9090}, "box");
  CHECK(read(p, {{"Host", "127.0.0.1:9090"}}) == none);
  CHECK(read(p, {{"Host", "localhost"}}) == none);
  CHECK(read(p, {{"Host", "[::1]:9090"}}) == none);
  CHECK(read(p, {{"Host", "127.0.1.1:9090"}}) == none);
  CHECK(read(p, {{"Host", "BOX:9090"}}) == none);
  CHECK(read(p, {{"Host", "evil.example:9090"}}) == host);
  CHECK(read(p, {{"Host", "127.0.0.1.evil.example"}}) == host);
  CHECK(read(p, {}) == host);

  const std::pair<std::string, std::string> h{"Host", "127.0.0.1:9090"};
  CHECK(read(p, {h, {"Origin", "http://127.0.0.1:9090"}}) == none);
  CHECK(read(p, {h, {"Origin", "http://localhost:9090"}}) == none);
  CHECK(read(p, {h, {"Origin", "HTTP://LOCALHOST:9090"}}) == none);
  CHECK(read(p, {h, {"Origin", "http://[::1]:9090"}}) == none);
  CHECK(read(p, {h, {"Origin", "http://box:9090"}}) == none);
  CHECK(read(p, {h, {"Origin", "http://localhost:9091"}}) == cross);
  CHECK(read(p, {h, {"Origin", "http://localhost"}}) == cross);
  CHECK(read(p, {h, {"Origin", "https://localhost:9090"}}) == cross);
  CHECK(read(p, {h, {"Origin", "http://evil.example:9090"}}) == cross);
  CHECK(read(p, {h, {"Origin", "null"}}) == cross);
  CHECK(read(p, {h, {"Origin", ""}}) == cross);
  CHECK(read(p, {h, {"Origin", "http://"}}) == cross);
  CHECK(read(p, {h, {"Origin", "http://localhost:9090x"}}) == cross);

  CHECK(read(p, {h, {"Sec-Fetch-Site", "same-origin"}}) == none);
  CHECK(read(p, {h, {"Sec-Fetch-Site", "none"}}) == none);
  CHECK(read(p, {h, {"Sec-Fetch-Site", "same-site"}}) == cross);
  CHECK(read(p, {h, {"Sec-Fetch-Site", "cross-site"}}) == cross);
}

TEST_CASE("state changes also need a JSON body") {
  origin_policy p({ip::make_address("127.0.0.1"), 9090}, "");
  const std::pair<std::string, std::string> h{"Host", "localhost:9090"};
  CHECK(write(p, {h, {"Content-Type", "application/json"}}) == none);
  CHECK(write(p, {h, {"Content-Type", "Application/JSON ; charset=utf-8"}}) == none);
  CHECK(write(p, {h}) == not_json);
  CHECK(write(p, {h, {"Content-Type", "text/plain"}}) == not_json);
  CHECK(write(p, {h, {"Content-Type", "text/plain; a=application/json"}}) == not_json);
  CHECK(write(p, {h, {"Content-Type", "application/x-www-form-urlencoded"}}) == not_json);
  CHECK(write(p, {h, {"Content-Type", "multipart/form-data"}}) == not_json);
  CHECK(write(p, {h, {"Content-Type", "application/json-patch+json"}}) == not_json);
  // The origin is judged first: a cross-origin text/plain POST is a cross-origin refusal.
  CHECK(write(p, {h, {"Origin", "http://evil.example"}, {"Content-Type", "text/plain"}})
        == cross);
  auto two_types = request(http::verb::post, {h, {"Content-Type", "application/json"}});
  two_types.insert(http::field::content_type, "text/plain");
  CHECK(p.check_write(two_types) == not_json);
  auto two_origins = request(http::verb::post, {h, {"Content-Type", "application/json"}});
  two_origins.insert(http::field::origin, "http://localhost:9090");
  two_origins.insert(http::field::origin, "http://evil.example");
  CHECK(p.check_write(two_origins) == cross);

  CHECK(origin_policy::refusal_reply(cross).status == 403);
  CHECK(origin_policy::refusal_reply(host).status == 403);
  CHECK(origin_policy::refusal_reply(not_json).status == 415);
}

TEST_CASE("specific and wildcard addresses") {
  origin_policy specific({ip::make_address("10.1.2.3"), 9090}, "box");
  CHECK(read(specific, {{"Host", "monitor.internal:9090"}}) == none); // any name leads here
  CHECK(read(specific, {{"Origin", "http://10.1.2.3:9090"}}) == none);
  CHECK(read(specific, {{"Origin", "http://localhost:9090"}}) == cross);

  origin_policy v6({ip::make_address("fd00::1"), 9090}, "");
  CHECK(read(v6, {{"Origin", "http://[fd00::1]:9090"}}) == none);

  origin_policy any({ip::make_address("0.0.0.0"), 80}, "");
  CHECK(read(any, {{"Host", "admin.internal"}, {"Origin", "http://admin.internal"}}) == none);
  CHECK(read(any, {{"Host", "admin.internal"}, {"Origin", "http://admin.internal:80"}}) == none);
  CHECK(read(any, {{"Host", "admin.internal"}, {"Origin", "http://evil.example"}}) == cross);
}
