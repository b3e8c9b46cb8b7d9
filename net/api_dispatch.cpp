// /api/ requests to an operation or a refusal (see api_dispatch.hpp). The checks run in a
// fixed order: the op first (an unknown path is 404 whatever the origin), then the origin,
// the method, the account service, and the op's own header (Bearer or Content-Type).
#include "net/api_dispatch.hpp"

#include "net/http_fields.hpp"
#include "net/json_reply.hpp"
#include "net/origin_policy.hpp"

#include <string_view>

namespace chat::net {

namespace {

api_op op_named(const url_target& target) {
  if (target.segments.size() != 2)
    return api_op::none;
  const auto& name = target.segments[1];
  if (name == "register")
    return api_op::register_account;
  if (name == "login")
    return api_op::login;
  if (name == "refresh")
    return api_op::refresh;
  if (name == "logout")
    return api_op::logout;
  return api_op::none;
}

api_decision refuse(http_reply r, bool cors = true) {
  api_decision d;
  d.reply = std::move(r);
  d.cors = cors;
  return d;
}

std::string_view field(const http_request& req, http::field f) {
  auto v = req[f];
  return {v.data(), v.size()};
}

// The token of exactly one `Authorization: Bearer T` field (scheme case-insensitive,
// spaces before T skipped); "" when there is none.
std::string bearer_of(const http_request& req) {
  if (req.count(http::field::authorization) != 1)
    return {};
  std::string_view token;
  if (!bearer_token(field(req, http::field::authorization), token))
    return {};
  return std::string(token);
}

} // namespace

api_decision decide_api(const http_request& req, const url_target& target,
                        const allowed_origins& origins, bool accounts_on) {
  auto op = op_named(target);
  if (op == api_op::none)
    return refuse(json_error(404, "not found: " + target.path));
  if (!origins.allows(req))
    return refuse(allowed_origins::refusal(), false);
  if (req.method() == http::verb::options) // CORS preflight
    return refuse(origins.preflight(req, "POST, OPTIONS"), false);
  if (req.method() != http::verb::post) {
    auto r = json_error(405, "use POST");
    r.headers.emplace_back("Allow", "POST, OPTIONS");
    return refuse(std::move(r));
  }
  if (!accounts_on)
    return refuse(json_error(404, "accounts are off on this node (no security.token-key)"));
  api_decision d;
  if (op == api_op::logout) {
    d.bearer = bearer_of(req);
    if (d.bearer.empty())
      return refuse(json_error(401, "logout needs Authorization: Bearer TOKEN"));
  } else if (req.count(http::field::content_type) != 1
             || !is_json_media_type(field(req, http::field::content_type))) {
    return refuse(json_error(415, "the body must be JSON (Content-Type: application/json)"));
  }
  d.op = op;
  return d;
}

} // namespace chat::net
