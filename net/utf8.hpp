// UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) for text that
// crosses the wire: an incremental validator for WebSocket text that arrives in pieces (a
// code point may be cut between two fragments and completed by the next), whole-string
// validation, cutting on a character boundary, and replacing ill-formed bytes. One state
// machine serves all of them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace chat::net {

class utf8_validator {
public:
  // Checks `size` more bytes; false from the first invalid byte on (sticky). Runs of ASCII
  // are checked eight bytes at a time.
  bool feed(const char* data, size_t size);
  // True when all bytes fed so far are valid and no code point is left incomplete.
  bool complete() const { return state_ == 0; }
  void reset() { state_ = 0; }

private:
  uint8_t state_ = 0; // 0: between code points; see utf8.cpp for the others
};

// True when `s` is well-formed UTF-8 as a whole.
bool valid_utf8(std::string_view s);

// The longest prefix of `s` of at most `max_bytes` that ends on a character boundary (of
// valid text: ill-formed input stays ill-formed).
std::string_view utf8_prefix(std::string_view s, size_t max_bytes);

// `s` with every byte that does not start a well-formed sequence replaced by U+FFFD, so it
// can be sent as JSON text.
std::string sanitize_utf8(std::string_view s);

} // namespace chat::net
