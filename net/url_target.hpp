// Request targets decoded with Boost.URL: the path as sent (for routing), its decoded
// segments, and the decoded query parameters ('+' is a space). Decoded text must be valid
// UTF-8 without NUL; a target that is not origin-form, or has a malformed %-escape, is
// refused as a whole.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chat::net {

struct url_target {
  std::string path;                  // percent-escapes kept, e.g. "/admin/users/a%20b/kick"
  std::vector<std::string> segments; // decoded: {"admin", "users", "a b", "kick"}
  std::vector<std::pair<std::string, std::string>> params; // decoded, in order, repeats kept
};

// The decoded target, or nullopt with `error` saying why it was refused.
std::optional<url_target> parse_target(std::string_view target, std::string& error);

// One query parameter that must appear at most once.
struct single_param {
  bool found = false;
  std::string value; // "" when absent
  std::string error; // non-empty: the key was repeated
};
single_param find_single_param(const url_target& t, std::string_view key);

} // namespace chat::net
