// UTF-8 validation (RFC 3629, table 3-7 of the Unicode standard).
#include "net/utf8.hpp"

#include <cstdint>

namespace chat::net {

namespace {

// Length of the well-formed sequence at the start of `s`, 0 when it is ill-formed.
size_t sequence_length(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  uint8_t b0 = byte(0);
  if (b0 < 0x80)
    return 1;
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF; // range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0)
      lo = 0xA0; // no overlong forms
    if (b0 == 0xED)
      hi = 0x9F; // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0)
      lo = 0x90; // no overlong forms
    if (b0 == 0xF4)
      hi = 0x8F; // at most U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n || byte(1) < lo || byte(1) > hi)
    return 0;
  for (size_t i = 2; i < n; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xBF)
      return 0;
  return n;
}

} // namespace

bool valid_utf8(std::string_view s) {
  while (!s.empty()) {
    auto n = sequence_length(s);
    if (n == 0)
      return false;
    s.remove_prefix(n);
  }
  return true;
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    auto n = sequence_length(s);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      n = 1;
    } else {
      out.append(s.data(), n);
    }
    s.remove_prefix(n);
  }
  return out;
}

} // namespace chat::net
