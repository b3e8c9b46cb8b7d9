// Strict UTF-8 after the Unicode Standard's table of well-formed byte sequences (3-7).
// Text is mostly ASCII, so validation skips ASCII 32 or 8 bytes at a time.
#include "net/unicode.hpp"

#include <cstring>

namespace chat::net {

namespace {

// The allowed range of the second byte after each lead byte; later bytes are 80..BF.
struct lead_rule {
  uint8_t length; // 0: not a lead byte
  uint8_t lo, hi; // second byte range
};

lead_rule rule_for(uint8_t c) {
  if (c >= 0xC2 && c <= 0xDF) return {2, 0x80, 0xBF};
  if (c == 0xE0) return {3, 0xA0, 0xBF};
  if (c == 0xED) return {3, 0x80, 0x9F}; // U+D800..DFFF are surrogates, not characters
  if (c >= 0xE1 && c <= 0xEF) return {3, 0x80, 0xBF};
  if (c == 0xF0) return {4, 0x90, 0xBF};
  if (c >= 0xF1 && c <= 0xF3) return {4, 0x80, 0xBF};
  if (c == 0xF4) return {4, 0x80, 0x8F}; // nothing above U+10FFFF
  return {0, 0, 0};
}

// The length of the well-formed sequence at p (positive), or minus the length of its
// maximal ill-formed subpart (at least one byte). `n` is at least 1.
int sequence_at(const uint8_t* p, size_t n) {
  if (p[0] < 0x80)
    return 1;
  auto r = rule_for(p[0]);
  if (r.length == 0)
    return -1;
  if (n < 2 || p[1] < r.lo || p[1] > r.hi)
    return -1;
  for (size_t k = 2; k < r.length; ++k)
    if (k >= n || (p[k] & 0xC0) != 0x80)
      return -int(k);
  return r.length;
}

// True when the `words` 8-byte words at p are all ASCII.
template <size_t words>
bool all_ascii(const uint8_t* p) {
  uint64_t any = 0;
  for (size_t k = 0; k < words; ++k) {
    uint64_t w;
    std::memcpy(&w, p + 8 * k, sizeof w);
    any |= w;
  }
  return (any & 0x8080808080808080ull) == 0;
}

} // namespace

size_t utf8_valid_prefix(std::string_view s) {
  auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    if (n - i >= 32 && all_ascii<4>(p + i)) {
      i += 32;
      continue;
    }
    if (n - i >= 8 && all_ascii<1>(p + i)) {
      i += 8;
      continue;
    }
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    int len = sequence_at(p + i, n - i);
    if (len < 0)
      return i;
    i += size_t(len);
  }
  return n;
}

std::string_view utf8_repaired(std::string_view s, std::string& scratch) {
  size_t good = utf8_valid_prefix(s);
  if (good == s.size())
    return s;
  auto* p = reinterpret_cast<const uint8_t*>(s.data());
  scratch.assign(s.data(), good);
  for (size_t i = good; i < s.size();) {
    int len = sequence_at(p + i, s.size() - i);
    if (len > 0) {
      scratch.append(s.data() + i, size_t(len));
      i += size_t(len);
    } else {
      scratch.append("\xEF\xBF\xBD");
      i += size_t(-len);
    }
  }
  return scratch;
}

std::string_view utf8_truncated(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes)
    return s;
  size_t end = max_bytes;
  while (end > 0 && (uint8_t(s[end]) & 0xC0) == 0x80)
    --end;
  return s.substr(0, end);
}

char32_t utf8_next(std::string_view s, size_t& i) {
  auto* p = reinterpret_cast<const uint8_t*>(s.data()) + i;
  int len = sequence_at(p, s.size() - i);
  if (len <= 0) {
    i += size_t(-len);
    return U'\uFFFD';
  }
  i += size_t(len);
  if (len == 1)
    return p[0];
  char32_t cp = p[0] & (0x7F >> len);
  for (int k = 1; k < len; ++k)
    cp = (cp << 6) | (p[k] & 0x3F);
  return cp;
}

} // namespace chat::net
