// Origin, Sec-Fetch-Site, Host and Content-Type checks (see origin_policy.hpp).
#include "net/origin_policy.hpp"

#include "net/http_fields.hpp"
#include "net/json_reply.hpp"

#include <boost/beast/core/string.hpp>

namespace chat::net {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return boost::beast::iequals(a, b);
}

template <class Name>
std::string_view field(const http_request& req, Name name) {
  auto v = req[name];
  return std::string_view(v.data(), v.size());
}

// The host part of a Host field or an origin's authority: "[::1]:9090" -> "[::1]".
std::string_view host_part(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

bool loopback_name(std::string_view host) {
  if (iequals(host, "localhost") || host == "[::1]")
    return true;
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address_v4(std::string(host), ec);
  return !ec && addr.is_loopback();
}

} // namespace

bool is_json_media_type(std::string_view content_type) {
  return iequals(trim_ows(content_type.substr(0, content_type.find(';'))), "application/json");
}

origin_policy::origin_policy(boost::asio::ip::tcp::endpoint bound, std::string host_name)
  : bound_(std::move(bound)), host_name_(std::move(host_name)) {}

bool origin_policy::own_host(std::string_view host_field) const {
  if (!bound_.address().is_loopback())
    return true; // reachable from elsewhere: the Host is whatever name leads here
  auto host = host_part(trim_ows(host_field));
  return loopback_name(host) || (!host_name_.empty() && iequals(host, host_name_));
}

bool origin_policy::own_origin(std::string_view origin, std::string_view host_field) const {
  constexpr std::string_view scheme = "http://";
  if (origin.size() <= scheme.size() || !iequals(origin.substr(0, scheme.size()), scheme))
    return false; // "null", https, other schemes: not this plain-HTTP endpoint
  auto authority = origin.substr(scheme.size());
  auto host = host_part(authority);
  auto port_text = authority.substr(host.size());
  auto port = std::to_string(bound_.port());
  bool port_ok = port_text == ":" + port || (port_text.empty() && bound_.port() == 80);
  if (!port_ok)
    return false;
  if (bound_.address().is_unspecified()) // any address: same origin as the Host asked for
    return iequals(host, host_part(trim_ows(host_field)));
  if (bound_.address().is_loopback())
    return loopback_name(host) || (!host_name_.empty() && iequals(host, host_name_));
  auto addr = bound_.address().is_v6() ? "[" + bound_.address().to_string() + "]"
                                       : bound_.address().to_string();
  return iequals(host, addr);
}

origin_refusal origin_policy::check_read(const http_request& req) const {
  if (!own_host(field(req, http::field::host)))
    return origin_refusal::foreign_host;
  if (req.count(http::field::origin) > 1)
    return origin_refusal::cross_origin;
  if (req.count(http::field::origin) == 1
      && !own_origin(trim_ows(field(req, http::field::origin)), field(req, http::field::host)))
    return origin_refusal::cross_origin;
  auto site = trim_ows(field(req, "Sec-Fetch-Site"));
  if (!site.empty() && !iequals(site, "same-origin") && !iequals(site, "none"))
    return origin_refusal::cross_origin;
  return origin_refusal::none;
}

origin_refusal origin_policy::check_write(const http_request& req) const {
  auto r = check_read(req);
  if (r != origin_refusal::none)
    return r;
  if (req.count(http::field::content_type) != 1
      || !is_json_media_type(field(req, http::field::content_type)))
    return origin_refusal::not_json;
  return origin_refusal::none;
}

http_reply origin_policy::refusal_reply(origin_refusal r) {
  switch (r) {
  case origin_refusal::foreign_host:
    return json_error(403, "Host is not a name of this loopback endpoint");
  case origin_refusal::cross_origin:
    return json_error(403, "cross-origin requests are refused");
  case origin_refusal::not_json:
    return json_error(415, "state-changing requests need Content-Type: application/json");
  case origin_refusal::none:
    break;
  }
  return json_error(500, "no refusal");
}

} // namespace chat::net
