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

// The token of an Authorization value `Bearer TOKEN` (the scheme in any case, spaces
// before the token skipped); false when the value has another form or no token.
inline bool bearer_token(std::string_view value, std::string_view& token) {
  constexpr std::string_view scheme = "bearer ";
  if (value.size() <= scheme.size())
    return false;
  for (size_t i = 0; i < scheme.size(); ++i) {
    char c = value[i];
    if ((c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c) != scheme[i])
      return false;
  }
  value.remove_prefix(scheme.size());
  while (!value.empty() && value.front() == ' ')
    value.remove_prefix(1);
  token = value;
  return !token.empty();
}

} // namespace chat::net
