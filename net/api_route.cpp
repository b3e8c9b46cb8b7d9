// /api/: method, origin and content checks, then the account service (see api_route.hpp).
#include "net/api_route.hpp"

#include "net/client_gate.hpp"
#include "net/http_session.hpp"
#include "net/json_reply.hpp"
#include "net/origin_policy.hpp"

#include <boost/beast/core/string.hpp>

namespace chat::net {

namespace {

http_reply outcome_reply(const auth::api_outcome& o, bool revocation) {
  http_reply r;
  if (!o.error.empty()) {
    r = json_error(o.status, o.error);
  } else if (revocation) {
    r = json_object_reply(o.status, [&](json_writer& w) {
      w.Key("user");
      w.String(o.user);
      w.Key("revoked");
      w.Bool(true);
      w.Key("closed");
      w.Uint64(o.closed);
    });
  } else {
    r = json_object_reply(o.status, [&](json_writer& w) {
      w.Key("user");
      w.String(o.user);
      w.Key("token");
      w.String(o.token);
      w.Key("expires");
      w.Int64(o.expires_s);
      w.Key("refresh_token");
      w.String(o.refresh_token);
      w.Key("refresh_expires");
      w.Int64(o.refresh_expires_s);
    });
  }
  if (o.retry_after_s > 0)
    r.headers.emplace_back("Retry-After", std::to_string(o.retry_after_s));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

// The bearer token of `Authorization: Bearer T`, "" when there is none.
std::string bearer_of(const http_request& req) {
  if (req.count(http::field::authorization) != 1)
    return {};
  auto v = req[http::field::authorization];
  std::string_view value(v.data(), v.size());
  if (value.size() <= 7 || !boost::beast::iequals(value.substr(0, 7), "bearer "))
    return {};
  value.remove_prefix(7);
  while (!value.empty() && value.front() == ' ')
    value.remove_prefix(1);
  return std::string(value);
}

} // namespace

route_handler make_api_route(client_gate& gate) {
  return [&gate](http_exchange& ex) {
    const auto& req = ex.request();
    const auto& seg = ex.target().segments;
    std::string op = seg.size() == 2 ? seg[1] : std::string();
    bool known = op == "register" || op == "login" || op == "refresh" || op == "logout";
    http_reply cors; // the CORS fields for a listed origin, taken now on this thread
    allowed_origins::add_cors_fields(cors, gate.origins().cors_origin(req));
    auto answer = [ex, cors = std::move(cors.headers)](http_reply r) {
      r.headers.insert(r.headers.end(), cors.begin(), cors.end());
      ex.respond(std::move(r));
    };
    if (!known)
      return answer(json_error(404, "not found: " + ex.target().path));
    if (!gate.origins().allows(req))
      return ex.respond(allowed_origins::refusal());
    if (req.method() == http::verb::options) // CORS preflight
      return ex.respond(gate.origins().preflight(req, "POST, OPTIONS"));
    if (req.method() != http::verb::post) {
      auto r = json_error(405, "use POST");
      r.headers.emplace_back("Allow", "POST, OPTIONS");
      return answer(std::move(r));
    }
    auto* accounts = gate.accounts();
    if (!accounts)
      return answer(json_error(404, "accounts are off on this node (no security.token-key)"));
    auto address = gate.client_address(ex);
    bool revocation = op == "logout";
    auto done = [answer, revocation](auth::api_outcome o) {
      answer(outcome_reply(o, revocation));
    };
    if (revocation) {
      auto bearer = bearer_of(req);
      if (bearer.empty())
        return answer(json_error(401, "logout needs Authorization: Bearer TOKEN"));
      return accounts->logout(bearer, address, done);
    }
    if (req.count(http::field::content_type) != 1
        || !is_json_media_type(std::string_view(req[http::field::content_type].data(),
                                                req[http::field::content_type].size())))
      return answer(json_error(415, "the body must be JSON (Content-Type: application/json)"));
    const auto& body = req.body();
    if (op == "register")
      accounts->register_account(body, address, done);
    else if (op == "login")
      accounts->login(body, address, done);
    else
      accounts->refresh(body, address, done);
  };
}

} // namespace chat::net
