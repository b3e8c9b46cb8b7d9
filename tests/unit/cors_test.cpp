// Unit: net/allowed_origins as CORS — which browser origins may use an endpoint, the CORS
// fields of allowed cross-origin answers, and preflight answers.
#include "net/allowed_origins.hpp"
#include "support/reply_fields.hpp"

#include <catch2/catch.hpp>

using namespace chat::net;
using chat::test::reply_field;

namespace {

http_request request(std::vector<std::pair<http::field, std::string>> fields) {
  http_request r{http::verb::get, "/socket.io/?EIO=4&transport=polling", 11};
  r.set(http::field::host, "chat.example.com:8080");
  for (auto& [f, v] : fields)
    r.insert(f, v);
  return r;
}

} // namespace

TEST_CASE("no Origin passes; self is same-origin; other origins only when listed") {
  allowed_origins self({"self"});
  CHECK(self.allows(request({})));
  CHECK(self.allows(request({{http::field::origin, "https://chat.example.com:8080"}})));
  CHECK(self.allows(request({{http::field::origin, "http://CHAT.example.com:8080"}})));
  CHECK_FALSE(self.allows(request({{http::field::origin, "https://chat.example.com"}})));
  CHECK_FALSE(self.allows(request({{http::field::origin, "https://evil.example"}})));
  CHECK_FALSE(self.allows(request({{http::field::origin, "null"}})));
  CHECK(self.cors_origin(request({{http::field::origin, "https://chat.example.com:8080"}}))
          .empty()); // same-origin needs no CORS fields

  // An empty list: programs (no Origin) only, not even the node's own pages.
  allowed_origins none;
  CHECK(none.allows(request({})));
  CHECK_FALSE(none.allows(request({{http::field::origin, "https://chat.example.com:8080"}})));
  CHECK_FALSE(none.allows(request({{http::field::origin, "https://evil.example"}})));

  allowed_origins listed({"https://app.example"});
  CHECK(listed.allows(request({{http::field::origin, "https://app.example"}})));
  CHECK(listed.allows(request({{http::field::origin, "HTTPS://App.Example"}})));
  CHECK_FALSE(listed.allows(request({{http::field::origin, "https://app.example.evil"}})));
  CHECK_FALSE(listed.allows(request(
    {{http::field::origin, "https://app.example"}, {http::field::origin, "https://app.example"}})));
  CHECK(listed.cors_origin(request({{http::field::origin, "https://app.example"}}))
        == "https://app.example");

  allowed_origins any({"*"});
  CHECK(any.allows(request({{http::field::origin, "https://anything.example"}})));
  CHECK(any.cors_origin(request({{http::field::origin, "https://anything.example"}}))
        == "https://anything.example"); // echoed, never "*": credentials are allowed
}

TEST_CASE("allowed answers carry the CORS fields") {
  http_reply r;
  allowed_origins::add_cors_fields(r, "https://app.example");
  CHECK(reply_field(r, "Access-Control-Allow-Origin") == "https://app.example");
  CHECK(reply_field(r, "Access-Control-Allow-Credentials") == "true");
  CHECK(reply_field(r, "Vary") == "Origin");
  http_reply plain;
  allowed_origins::add_cors_fields(plain, "");
  CHECK(plain.headers.empty());
}

TEST_CASE("preflights: 204 with methods and the asked headers, or 403") {
  allowed_origins listed({"https://app.example"});
  auto ok = listed.preflight(request({{http::field::origin, "https://app.example"},
                                      {http::field::access_control_request_headers,
                                       "content-type, x-requested-with"}}), "GET, POST, OPTIONS");
  CHECK(ok.status == 204);
  CHECK(reply_field(ok, "Access-Control-Allow-Origin") == "https://app.example");
  CHECK(reply_field(ok, "Access-Control-Allow-Methods") == "GET, POST, OPTIONS");
  CHECK(reply_field(ok, "Access-Control-Allow-Headers") == "content-type, x-requested-with");
  auto odd = listed.preflight(request({{http::field::origin, "https://app.example"},
                                       {http::field::access_control_request_headers, "a;b"}}), "GET, POST, OPTIONS");
  CHECK(odd.status == 204);
  CHECK(reply_field(odd, "Access-Control-Allow-Headers").empty()); // not echoed: not a token list
  CHECK(listed.preflight(request({{http::field::origin, "https://evil.example"}}), "POST").status
        == 403);
  CHECK(listed.preflight(request({}), "POST").status == 403);
  CHECK(listed.preflight(request({{http::field::origin, "https://chat.example.com:8080"}}), "POST")
          .status
        == 403); // same-origin pages do not preflight
  CHECK(allowed_origins::refusal().status == 403);
}
