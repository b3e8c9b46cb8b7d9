// UTF-8 validation as a small state machine over the byte ranges of RFC 3629, section 4.
#include "net/utf8.hpp"

#include <cstring>

namespace chat::net {

namespace {

// What the validator waits for next.
enum state : uint8_t {
  between = 0, // a lead byte (or ASCII)
  tail1,       // one more continuation byte 80..BF
  tail2,       // two more
  tail3,       // three more
  after_e0,    // A0..BF, then one more (no overlong 3-byte forms)
  after_ed,    // 80..9F, then one more (no surrogates D800..DFFF)
  after_f0,    // 90..BF, then two more (no overlong 4-byte forms)
  after_f4,    // 80..8F, then two more (nothing above U+10FFFF)
  invalid,
};

state after_lead(unsigned char c) {
  if (c < 0xC2)
    return invalid; // a stray continuation byte, or an overlong 2-byte form (C0, C1)
  if (c < 0xE0)
    return tail1;
  if (c == 0xE0)
    return after_e0;
  if (c == 0xED)
    return after_ed;
  if (c < 0xF0)
    return tail2;
  if (c == 0xF0)
    return after_f0;
  if (c < 0xF4)
    return tail3;
  if (c == 0xF4)
    return after_f4;
  return invalid;
}

// The state after continuation byte `c` in state `s` (not `between`).
state after_tail(state s, unsigned char c) {
  unsigned char lo = 0x80, hi = 0xBF;
  state next;
  switch (s) {
    case tail1: next = between; break;
    case tail2: next = tail1; break;
    case tail3: next = tail2; break;
    case after_e0: lo = 0xA0; next = tail1; break;
    case after_ed: hi = 0x9F; next = tail1; break;
    case after_f0: lo = 0x90; next = tail2; break;
    case after_f4: hi = 0x8F; next = tail2; break;
    default: return invalid;
  }
  return c < lo || c > hi ? invalid : next;
}

// Length of the well-formed sequence at the start of `s`, 0 when it is ill-formed.
size_t sequence_length(std::string_view s) {
  auto c = static_cast<unsigned char>(s[0]);
  if (c < 0x80)
    return 1;
  auto st = after_lead(c);
  size_t n = 1;
  while (st != between && st != invalid && n < s.size())
    st = after_tail(st, static_cast<unsigned char>(s[n++]));
  return st == between ? n : 0;
}

} // namespace

bool utf8_validator::feed(const char* data, size_t size) {
  auto* p = reinterpret_cast<const unsigned char*>(data);
  auto* end = p + size;
  auto s = state(state_);
  while (p < end && s != invalid) {
    if (s == between) {
      while (end - p >= 8) {
        uint64_t word;
        std::memcpy(&word, p, 8);
        if (word & 0x8080808080808080ull)
          break;
        p += 8;
      }
      while (p < end && *p < 0x80)
        ++p;
      if (p < end)
        s = after_lead(*p++);
      continue;
    }
    s = after_tail(s, *p++);
  }
  state_ = s;
  return s != invalid;
}

bool valid_utf8(std::string_view s) {
  utf8_validator v;
  return v.feed(s.data(), s.size()) && v.complete();
}

std::string_view utf8_prefix(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes)
    return s;
  size_t end = max_bytes;
  // Step back over continuation bytes to the start of the character that would be cut.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80)
    --end;
  return s.substr(0, end);
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
