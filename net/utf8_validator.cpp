// UTF-8 validation as a small state machine over the byte ranges of RFC 3629, section 4.
#include "net/utf8_validator.hpp"

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
    unsigned char c = *p++;
    unsigned char lo = 0x80, hi = 0xBF;
    state next = between;
    switch (s) {
      case tail1: next = between; break;
      case tail2: next = tail1; break;
      case tail3: next = tail2; break;
      case after_e0: lo = 0xA0; next = tail1; break;
      case after_ed: hi = 0x9F; next = tail1; break;
      case after_f0: lo = 0x90; next = tail2; break;
      case after_f4: hi = 0x8F; next = tail2; break;
      default: next = invalid; break;
    }
    s = c < lo || c > hi ? invalid : next;
  }
  state_ = s;
  return s != invalid;
}

} // namespace chat::net
