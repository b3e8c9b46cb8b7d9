// Incremental UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF) for WebSocket text that arrives in pieces: a code point may be cut between two
// fragments and completed by the next. Runs of ASCII are checked eight bytes at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace chat::net {

class utf8_validator {
public:
  // Checks `size` more bytes; false from the first invalid byte on (sticky).
  bool feed(const char* data, size_t size);
  // True when all bytes fed so far are valid and no code point is left incomplete.
  bool complete() const { return state_ == 0; }
  void reset() { state_ = 0; }

  static bool valid(std::string_view text) {
    utf8_validator v;
    return v.feed(text.data(), text.size()) && v.complete();
  }

private:
  uint8_t state_ = 0; // 0: between code points; see utf8_validator.cpp for the others
};

} // namespace chat::net
