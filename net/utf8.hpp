// UTF-8 checks for text that crosses the HTTP boundary (decoded URL parts, error texts).
#pragma once

#include <string>
#include <string_view>

namespace chat::net {

// True when `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
// U+10FFFF).
bool valid_utf8(std::string_view s);

// `s` with every ill-formed sequence replaced by U+FFFD, so it can be sent as JSON text.
std::string sanitize_utf8(std::string_view s);

} // namespace chat::net
