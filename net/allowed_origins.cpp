// Exact origin allow-list (see allowed_origins.hpp).
#include "net/allowed_origins.hpp"

#include "net/json_reply.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>

namespace chat::net {

namespace {

// A page of the node's own origin: the Origin's host[:port] is the request's Host (the
// scheme is not compared: behind a TLS-terminating proxy the page is https, the node http).
bool same_origin(std::string_view origin, const http_request& req) {
  if (req.count(http::field::host) != 1)
    return false;
  auto host = req[http::field::host];
  for (std::string_view scheme : {"http://", "https://"})
    if (origin.size() > scheme.size()
        && boost::beast::iequals(origin.substr(0, scheme.size()), scheme))
      return boost::beast::iequals(origin.substr(scheme.size()),
                                   std::string_view(host.data(), host.size()));
  return false;
}

} // namespace

allowed_origins::allowed_origins(std::vector<std::string> list) {
  for (auto& o : list) {
    if (o == "*")
      any_ = true;
    else
      list_.push_back(std::move(o));
  }
}

bool allowed_origins::allows(const http_request& req) const {
  auto n = req.count(http::field::origin);
  if (n == 0)
    return true;
  if (n > 1)
    return false;
  if (any_)
    return true;
  auto v = req[http::field::origin];
  std::string_view origin(v.data(), v.size());
  if (same_origin(origin, req))
    return true;
  // Scheme and host are case-insensitive (RFC 6454 4); compared as browsers send them.
  return std::any_of(list_.begin(), list_.end(), [&](const std::string& o) {
    return boost::beast::iequals(o, origin);
  });
}

http_reply allowed_origins::refusal() {
  return json_error(403, "origin not allowed (net.allowed-origins)");
}

void allowed_origins::add_cors(const http_request& req, http_reply& reply) const {
  if (req.count(http::field::origin) != 1 || !allows(req))
    return;
  auto v = req[http::field::origin];
  reply.headers.emplace_back("Access-Control-Allow-Origin", std::string(v.data(), v.size()));
  reply.headers.emplace_back("Vary", "Origin");
}

} // namespace chat::net
