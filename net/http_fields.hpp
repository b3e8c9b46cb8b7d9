// Small helpers for reading HTTP header field values.
#pragma once

#include <string_view>

namespace chat::net {

// A field value without its optional whitespace (spaces and tabs, RFC 9110) at either end.
inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

} // namespace chat::net
