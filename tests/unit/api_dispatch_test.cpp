// Unit: net/api_dispatch — the account API's decision on a request (which operation, or
// which refusal), in the order api_route answered before the decision was its own unit:
// unknown op, origin, preflight, method, accounts off, then the op's Bearer or Content-Type.
#include "net/api_dispatch.hpp"
#include "support/reply_fields.hpp"

#include <catch2/catch.hpp>

using namespace chat::net;
using chat::test::reply_field;

namespace {

const allowed_origins listed({"https://app.example"});

http_request request(http::verb method, const std::string& target,
                     std::vector<std::pair<http::field, std::string>> fields = {}) {
  http_request r{method, target, 11};
  r.set(http::field::host, "chat.example.com");
  for (auto& [f, v] : fields)
    r.insert(f, v);
  r.body() = R"({"username":"ann","password":"secret-pass"})";
  return r;
}

api_decision decide(const http_request& req, bool accounts_on = true,
                    const allowed_origins& origins = listed) {
  std::string error;
  auto target = parse_target(std::string_view(req.target().data(), req.target().size()), error);
  REQUIRE(target);
  return decide_api(req, *target, origins, accounts_on);
}

api_decision post(const std::string& target,
                  std::vector<std::pair<http::field, std::string>> fields = {}) {
  return decide(request(http::verb::post, target, std::move(fields)));
}

const std::pair<http::field, std::string> json{http::field::content_type, "application/json"};

} // namespace

TEST_CASE("each op with what it needs is dispatched") {
  CHECK(post("/api/register", {json}).op == api_op::register_account);
  CHECK(post("/api/login", {json}).op == api_op::login);
  CHECK(post("/api/refresh", {{http::field::content_type, "Application/JSON; charset=utf-8"}}).op
        == api_op::refresh);
  auto out = post("/api/logout", {{http::field::authorization, "Bearer  tok.en"}});
  CHECK(out.op == api_op::logout);
  CHECK(out.bearer == "tok.en"); // spaces after the scheme skipped
  CHECK(post("/api/logout", {{http::field::authorization, "bEaReR x"}}).bearer == "x");
  // A listed cross-origin page may call the API.
  CHECK(post("/api/login", {json, {http::field::origin, "https://app.example"}}).op
        == api_op::login);
}

TEST_CASE("an unknown op is 404 with CORS fields, whatever the origin and method") {
  int checked = 0;
  for (auto target : {"/api/", "/api/nope", "/api/login/x", "/api/Login", "/api/login%00"}) {
    std::string error;
    if (!parse_target(target, error))
      continue; // refused before the route (http_upgrade's territory): only %00 here
    ++checked;
    auto d = decide(request(http::verb::get, target, {{http::field::origin, "https://evil.example"}}));
    CAPTURE(target);
    CHECK(d.op == api_op::none);
    CHECK(d.reply.status == 404);
    CHECK(d.cors);
    CHECK(d.reply.body.find("not found: ") != std::string::npos);
  }
  CHECK(checked == 4);
}

TEST_CASE("origin refusals and preflights are answered without added CORS fields") {
  auto d = post("/api/login", {json, {http::field::origin, "https://evil.example"}});
  CHECK(d.op == api_op::none);
  CHECK(d.reply.status == 403);
  CHECK_FALSE(d.cors);
  // Two Origin fields are refused, even when both are listed.
  d = post("/api/login", {json, {http::field::origin, "https://app.example"},
                          {http::field::origin, "https://app.example"}});
  CHECK(d.reply.status == 403);

  d = decide(request(http::verb::options, "/api/login",
                     {{http::field::origin, "https://app.example"},
                      {http::field::access_control_request_method, "POST"}}));
  CHECK(d.op == api_op::none);
  CHECK(d.reply.status == 204);
  CHECK_FALSE(d.cors);
  CHECK(reply_field(d.reply, "Access-Control-Allow-Methods") == "POST, OPTIONS");
  // A preflight from a program (no Origin) is not a listed origin's: 403.
  CHECK(decide(request(http::verb::options, "/api/login")).reply.status == 403);
}

TEST_CASE("methods other than POST are 405 with Allow") {
  for (auto m : {http::verb::get, http::verb::put, http::verb::delete_, http::verb::head}) {
    auto d = decide(request(m, "/api/register", {json}));
    CHECK(d.op == api_op::none);
    CHECK(d.reply.status == 405);
    CHECK(d.cors);
    CHECK(reply_field(d.reply, "Allow") == "POST, OPTIONS");
  }
}

TEST_CASE("accounts off: 404 before any header of the op is looked at") {
  for (auto target : {"/api/register", "/api/logout"}) {
    auto d = decide(request(http::verb::post, target), false);
    CHECK(d.op == api_op::none);
    CHECK(d.reply.status == 404);
    CHECK(d.reply.body.find("accounts are off") != std::string::npos);
  }
  // ...but after the method and origin checks.
  CHECK(decide(request(http::verb::get, "/api/login"), false).reply.status == 405);
}

TEST_CASE("logout needs exactly one Authorization: Bearer with a token") {
  for (std::vector<std::pair<http::field, std::string>> fields :
       {std::vector<std::pair<http::field, std::string>>{},
        {{http::field::authorization, "Bearer "}},
        {{http::field::authorization, "Bearer    "}},
        {{http::field::authorization, "Basic YWxhZGRpbjpvcGVuc2VzYW1l"}},
        {{http::field::authorization, "Bearertoken"}},
        {{http::field::authorization, "Bearer a"}, {http::field::authorization, "Bearer a"}}}) {
    auto d = post("/api/logout", fields);
    CHECK(d.op == api_op::none);
    CHECK(d.reply.status == 401);
    CHECK(d.cors);
    CHECK(d.bearer.empty());
  }
  // The body's Content-Type does not matter to logout.
  CHECK(post("/api/logout", {{http::field::authorization, "Bearer t"},
                             {http::field::content_type, "text/plain"}})
          .op == api_op::logout);
}

TEST_CASE("register, login and refresh need one JSON Content-Type") {
  for (auto target : {"/api/register", "/api/login", "/api/refresh"}) {
    for (std::vector<std::pair<http::field, std::string>> fields :
         {std::vector<std::pair<http::field, std::string>>{},
          {{http::field::content_type, "text/plain"}},
          {{http::field::content_type, "application/jsonx"}},
          {{http::field::content_type, "application/x-www-form-urlencoded"}},
          {json, json}}) {
      auto d = post(target, fields);
      CAPTURE(target);
      CHECK(d.op == api_op::none);
      CHECK(d.reply.status == 415);
      CHECK(d.cors);
    }
  }
}
