// Fuzz target: the JSON bodies of the account API (/api/register, /api/login,
// /api/refresh). Whatever the body: one error line for a 400, or credentials whose name is
// canonical and whose password is within the limits; never a crash.
#include "net/auth/api_request.hpp"
#include "net/auth/username.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chat::auth;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  for (auto use : {credentials_use::register_account, credentials_use::login}) {
    credentials c;
    auto err = parse_credentials(body, use, c);
    if (err.find('\n') != std::string::npos)
      std::abort();
    if (err.empty() && (canonical_username(c.username) != c.username || c.password.empty()))
      std::abort();
  }
  std::string token;
  auto err = parse_refresh(body, token);
  if (err.find('\n') != std::string::npos || (err.empty() && token.empty()))
    std::abort();
  return 0;
}
