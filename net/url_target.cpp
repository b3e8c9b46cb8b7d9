// Boost.URL decoding of request targets (see url_target.hpp).
#include "net/url_target.hpp"

#include "net/utf8.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace chat::net {

namespace {

bool acceptable_text(const std::string& s) {
  return s.find('\0') == std::string::npos && valid_utf8(s);
}

} // namespace

std::optional<url_target> parse_target(std::string_view target, std::string& error) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) {
    error = "malformed request target: " + parsed.error().message();
    return std::nullopt;
  }
  const auto& u = *parsed;
  url_target out;
  out.path = std::string(u.encoded_path());
  for (auto seg : u.segments()) {
    if (!acceptable_text(seg)) {
      error = "request path is not valid UTF-8 text";
      return std::nullopt;
    }
    out.segments.push_back(std::move(seg));
  }
  for (auto p : u.params(boost::urls::encoding_opts(/*space_as_plus=*/true))) {
    if (!acceptable_text(p.key) || !acceptable_text(p.value)) {
      error = "query parameter is not valid UTF-8 text";
      return std::nullopt;
    }
    out.params.emplace_back(std::move(p.key), std::move(p.value));
  }
  return out;
}

single_param find_single_param(const url_target& t, std::string_view key) {
  single_param r;
  for (auto& [k, v] : t.params) {
    if (k != key)
      continue;
    if (r.found) {
      r.error = "query parameter '" + std::string(key) + "' given more than once";
      r.value.clear();
      return r;
    }
    r.found = true;
    r.value = v;
  }
  return r;
}

} // namespace chat::net
