// Account names: ASCII only, so no Unicode look-alikes and no normalisation question.
// 3..32 characters of a-z 0-9 _ . - , starting with a letter or digit; registration and
// login fold A-Z to lower case, so "Alice" and "alice" are one account.
#pragma once

#include <string>
#include <string_view>

namespace chat::auth {

constexpr size_t min_username = 3;
constexpr size_t max_username = 32;

// The canonical (lower-case) name, or "" when `name` breaks the rules.
std::string canonical_username(std::string_view name);

// The rules in one sentence, for error answers.
const char* username_rules();

} // namespace chat::auth
