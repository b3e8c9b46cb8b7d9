// Signed access and refresh tokens: JWT (RFC 7519) with HS256 (HMAC-SHA-256, RFC 7518), so
// other services of a deployment can mint tokens for their users with the shared secret.
// Only HS256 is accepted: a token naming any other algorithm ("none" included) is refused.
// Claims read: "sub" (an account name, see username.hpp), "iat" and "exp" (required: "iat"
// is what revocation compares), "nbf" (optional), "typ" ("access" or "refresh", absent:
// access). A header with "crit" is refused (RFC 7515 4.1.11: no extension is understood).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chat::auth {

enum class token_kind { access, refresh };

struct token_claims {
  std::string user;     // "sub"
  int64_t issued_s = 0; // "iat", seconds since the epoch
  int64_t expires_s = 0; // "exp"
  token_kind kind = token_kind::access; // "typ": "access" or "refresh" (absent: access)
};

enum class token_error {
  none, malformed, bad_signature, expired, not_yet_valid, wrong_kind, bad_subject, revoked
};

// One line for the client and the access log.
const char* to_string(token_error e);

// The HMAC key: at least 32 bytes.
class token_key {
public:
  static constexpr size_t min_bytes = 32;
  // From a key file's text: hex digits (whitespace around is ignored). Throws
  // std::runtime_error with one line on a bad file.
  static token_key from_hex(std::string_view text);
  // A new random key, as the hex text of a key file.
  static std::string generate_hex();

  explicit token_key(std::vector<unsigned char> bytes);
  ~token_key();
  token_key(token_key&&) noexcept;
  token_key& operator=(token_key&&) noexcept;
  token_key(const token_key&) = delete;
  token_key& operator=(const token_key&) = delete;

  std::string sign(const token_claims& claims) const;
  // Checks shape, algorithm, signature, subject and times (with `skew_s` seconds of clock
  // skew allowed for "iat" and "nbf"; none for "exp"). Tokens longer than max_token_bytes
  // are malformed. Revocation is the caller's: compare `out.issued_s`. Once the signature
  // verified, `out` holds the claims even when a later check fails (for logs).
  token_error verify(std::string_view token, int64_t now_s, token_kind expected,
                     token_claims& out, int64_t skew_s = 60) const;

  static constexpr size_t max_token_bytes = 4096;

private:
  std::vector<unsigned char> key_;
};

} // namespace chat::auth
