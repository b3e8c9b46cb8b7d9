// The JSON bodies of the account API (POST /api/register, /api/login, /api/refresh),
// decoded strictly: one JSON object of at most a few members, strings where strings are
// expected, UTF-8 checked, the account name canonicalised (username.hpp). Fuzzed
// (tests/fuzz/api_request_fuzz.cpp).
#pragma once

#include <string>
#include <string_view>

namespace chat::auth {

enum class credentials_use { register_account, login };

struct credentials {
  std::string username; // canonical (lower case)
  std::string password;
};

// Fills `out` from `{"username": "...", "password": "..."}`; returns "" or the error for a
// 400 answer. Registration needs a password of min_password..max_password bytes; a login
// any 1..max_password bytes.
std::string parse_credentials(std::string_view body, credentials_use use, credentials& out);

// Fills `token` from `{"refresh_token": "..."}`; returns "" or the error for a 400 answer.
std::string parse_refresh(std::string_view body, std::string& token);

} // namespace chat::auth
