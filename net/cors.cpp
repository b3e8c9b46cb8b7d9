// CORS fields and preflight answers (see cors.hpp). Credentials are allowed (the origin is
// echoed, never "*"), as the Socket.IO client's withCredentials option needs.
#include "net/cors.hpp"

#include "net/json_reply.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>

namespace chat::net {

namespace {

std::string_view field(const http_request& req, http::field name) {
  auto v = req[name];
  return std::string_view(v.data(), v.size());
}

// Header names a preflight may ask for: tokens separated by commas and spaces.
bool header_list(std::string_view s) {
  if (s.size() > 1024)
    return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || c == '-' || c == '_' || c == ',' || c == ' ';
  });
}

// "scheme://host[:port]" names the same host and port as the Host field.
bool same_origin(std::string_view origin, std::string_view host) {
  auto sep = origin.find("://");
  if (sep == std::string_view::npos || host.empty())
    return false;
  origin.remove_prefix(sep + 3);
  return boost::beast::iequals(origin, host);
}

} // namespace

bool cors_policy::allows(const http_request& req) const {
  auto n = req.count(http::field::origin);
  if (n == 0)
    return true;
  if (n > 1)
    return false;
  auto origin = field(req, http::field::origin);
  if (same_origin(origin, field(req, http::field::host)))
    return true;
  return std::any_of(allowed_origins.begin(), allowed_origins.end(),
                     [&](const std::string& a) { return a == "*" || a == origin; });
}

http_reply cors_policy::refusal() {
  return json_error(403, "this origin may not use the endpoint (net.allowed-origins)");
}

std::string cors_policy::allowed_origin(const http_request& req) const {
  if (allowed_origins.empty() || req.count(http::field::origin) != 1)
    return {};
  auto origin = field(req, http::field::origin);
  for (auto& allowed : allowed_origins)
    if (allowed == "*" || allowed == origin)
      return std::string(origin);
  return {};
}

void cors_policy::add_fields(http_reply& reply, const std::string& origin) {
  if (origin.empty())
    return;
  reply.headers.emplace_back("Access-Control-Allow-Origin", origin);
  reply.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  reply.headers.emplace_back("Vary", "Origin");
}

http_reply cors_policy::preflight(const http_request& req) const {
  auto origin = allowed_origin(req);
  if (origin.empty())
    return json_error(403, "cross-origin requests are not allowed here (net.allowed-origins)");
  http_reply r;
  r.status = 204;
  r.content_type = "text/plain";
  add_fields(r, origin);
  r.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
  auto asked = field(req, http::field::access_control_request_headers);
  if (!asked.empty() && header_list(asked))
    r.headers.emplace_back("Access-Control-Allow-Headers", std::string(asked));
  r.headers.emplace_back("Access-Control-Max-Age", "600");
  return r;
}

} // namespace chat::net
