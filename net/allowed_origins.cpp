// Exact origin allow-list and its CORS answers (see allowed_origins.hpp).
#include "net/allowed_origins.hpp"

#include "net/json_reply.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>

namespace chat::net {

namespace {

std::string_view field(const http_request& req, http::field name) {
  auto v = req[name];
  return std::string_view(v.data(), v.size());
}

// A page of the node's own origin: the Origin's host[:port] is the request's Host (the
// scheme is not compared: behind a TLS-terminating proxy the page is https, the node http).
bool same_origin(std::string_view origin, const http_request& req) {
  if (req.count(http::field::host) != 1)
    return false;
  auto host = field(req, http::field::host);
  for (std::string_view scheme : {"http://", "https://"})
    if (origin.size() > scheme.size()
        && boost::beast::iequals(origin.substr(0, scheme.size()), scheme))
      return boost::beast::iequals(origin.substr(scheme.size()), host);
  return false;
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

} // namespace

allowed_origins::allowed_origins(std::vector<std::string> list) {
  for (auto& o : list) {
    if (o == "*")
      any_ = true;
    else if (o == "self")
      self_ = true;
    else
      list_.push_back(std::move(o));
  }
}

bool allowed_origins::listed(std::string_view origin) const {
  // Scheme and host are case-insensitive (RFC 6454 4); compared as browsers send them.
  return any_ || std::any_of(list_.begin(), list_.end(), [&](const std::string& o) {
           return boost::beast::iequals(o, origin);
         });
}

bool allowed_origins::allows(const http_request& req) const {
  auto n = req.count(http::field::origin);
  if (n == 0)
    return true;
  if (n > 1)
    return false;
  auto origin = field(req, http::field::origin);
  return (self_ && same_origin(origin, req)) || listed(origin);
}

http_reply allowed_origins::refusal() {
  return json_error(403, "origin not allowed (net.allowed-origins)");
}

std::string allowed_origins::cors_origin(const http_request& req) const {
  if (req.count(http::field::origin) != 1)
    return {};
  auto origin = field(req, http::field::origin);
  return listed(origin) ? std::string(origin) : std::string();
}

void allowed_origins::add_cors_fields(http_reply& reply, const std::string& origin) {
  if (origin.empty())
    return;
  reply.headers.emplace_back("Access-Control-Allow-Origin", origin);
  reply.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  reply.headers.emplace_back("Vary", "Origin");
}

http_reply allowed_origins::preflight(const http_request& req, const std::string& methods) const {
  auto origin = cors_origin(req);
  if (origin.empty())
    return json_error(403, "cross-origin requests are not allowed here (net.allowed-origins)");
  http_reply r;
  r.status = 204;
  r.content_type = "text/plain";
  add_cors_fields(r, origin);
  r.headers.emplace_back("Access-Control-Allow-Methods", methods);
  auto asked = field(req, http::field::access_control_request_headers);
  if (!asked.empty() && header_list(asked))
    r.headers.emplace_back("Access-Control-Allow-Headers", std::string(asked));
  r.headers.emplace_back("Access-Control-Max-Age", "600");
  return r;
}

} // namespace chat::net
