// UTF-8 validation by the table of well-formed byte sequences (Unicode 15, table 3-7).
#include "net/utf8.hpp"

#include <cstdint>

namespace chat::net {

bool valid_utf8(std::string_view s) {
  auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    uint8_t c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf; // bounds of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0)
        lo = 0xa0; // overlong
      else if (c == 0xed)
        hi = 0x9f; // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0)
        lo = 0x90; // overlong
      else if (c == 0xf4)
        hi = 0x8f; // past U+10FFFF
    } else {
      return false;
    }
    if (n - i < len || p[i + 1] < lo || p[i + 1] > hi)
      return false;
    for (size_t k = 2; k < len; ++k)
      if ((p[i + k] & 0xc0) != 0x80)
        return false;
    i += len;
  }
  return true;
}

std::string_view utf8_prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes)
    return s;
  size_t end = max_bytes;
  // Step back over continuation bytes to the start of the character that would be cut.
  while (end > 0 && (uint8_t(s[end]) & 0xc0) == 0x80)
    --end;
  return s.substr(0, end);
}

} // namespace chat::net
