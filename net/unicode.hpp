// UTF-8 as the protocol needs it: strict validation (RFC 3629: no surrogates, no overlong
// forms, nothing above U+10FFFF), repair of ill-formed text for output, truncation on a
// character boundary, and code point iteration for the name rules (field_rules.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace chat::net {

// Length of the longest well-formed prefix of `s` (s.size() when all of it is valid).
size_t utf8_valid_prefix(std::string_view s);

inline bool utf8_valid(std::string_view s) { return utf8_valid_prefix(s) == s.size(); }

// `s` itself when it is valid; otherwise `scratch`, filled with `s` in which every maximal
// ill-formed subsequence is replaced by U+FFFD (Unicode's "substitution of maximal subparts").
std::string_view utf8_repaired(std::string_view s, std::string& scratch);

// The longest prefix of the valid text `s` of at most `max_bytes` bytes that ends between
// two characters.
std::string_view utf8_truncated(std::string_view s, size_t max_bytes);

// Decodes the character at s[i] of valid text and advances i past it.
char32_t utf8_next(std::string_view s, size_t& i);

} // namespace chat::net
