// The character classes behind the name rules. Room names are identifiers people read and
// type: two names that look the same must be the same name, so besides control characters
// they exclude whitespace (Unicode White_Space) and the invisible formatting characters
// that make look-alikes (soft hyphen, zero-width space, directional marks, embeddings,
// overrides and isolates, word joiner, BOM). ZWJ and ZWNJ stay: emoji sequences and
// several scripts need them. Names are compared byte for byte (no normalisation).
#include "net/field_rules.hpp"

#include "net/unicode.hpp"

namespace chat::net {

namespace {

bool is_control(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

bool is_whitespace(char32_t c) {
  return c == 0x20 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028
         || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_invisible_format(char32_t c) {
  return c == 0xAD || c == 0x061C || c == 0x180E || c == 0x200B || c == 0x200E || c == 0x200F
         || (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x2064)
         || (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB);
}

// utf8_next with a shortcut for the common case.
char32_t ascii_or_next(std::string_view s, size_t& i) {
  auto b = uint8_t(s[i]);
  if (b < 0x80) {
    ++i;
    return b;
  }
  return utf8_next(s, i);
}

std::string length_problem(std::string_view s, size_t max_bytes) {
  if (s.empty() || s.size() > max_bytes)
    return "must be 1.." + std::to_string(max_bytes) + " bytes";
  return {};
}

} // namespace

std::string room_name_problem(std::string_view room) {
  if (auto p = length_problem(room, max_room_bytes); !p.empty())
    return p;
  if (room.substr(0, direct_room_prefix.size()) == direct_room_prefix)
    return "must not begin with 'dm:' (reserved for direct messages)";
  for (size_t i = 0; i < room.size();) {
    char32_t c = ascii_or_next(room, i);
    if (is_control(c) || is_whitespace(c) || is_invisible_format(c))
      return "must not contain control, whitespace or invisible formatting characters";
  }
  return {};
}

std::string printable_problem(std::string_view s, size_t max_bytes) {
  if (auto p = length_problem(s, max_bytes); !p.empty())
    return p;
  for (size_t i = 0; i < s.size();)
    if (is_control(ascii_or_next(s, i)))
      return "must not contain control characters";
  return {};
}

} // namespace chat::net
