// Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF) for
// text that crosses the wire, and cutting text without splitting a character.
#pragma once

#include <cstddef>
#include <string_view>

namespace chat::net {

bool valid_utf8(std::string_view s);

// The longest prefix of `s` of at most `max_bytes` that ends on a character boundary.
std::string_view utf8_prefix(std::string_view s, size_t max_bytes);

} // namespace chat::net
