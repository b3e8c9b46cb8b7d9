// Account name rules (see username.hpp).
#include "net/auth/username.hpp"

namespace chat::auth {

std::string canonical_username(std::string_view name) {
  if (name.size() < min_username || name.size() > max_username)
    return {};
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c >= 'A' && c <= 'Z')
      c = char(c - 'A' + 'a');
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (out.empty() || (c != '_' && c != '.' && c != '-')))
      return {};
    out.push_back(c);
  }
  return out;
}

const char* username_rules() {
  return "username must be 3..32 characters of a-z, 0-9, '_', '.', '-' (letters are folded to "
         "lower case), starting with a letter or digit";
}

} // namespace chat::auth
