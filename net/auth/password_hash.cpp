// Argon2id hashing (see password_hash.hpp).
#include "net/auth/password_hash.hpp"

#include <sodium.h>

namespace chat::auth {

std::string hash_password(const std::string& password, pwhash_limits limits) {
  if (sodium_init() < 0)
    return {};
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), limits.ops,
                        size_t(limits.mem_bytes))
      != 0)
    return {};
  return out;
}

bool verify_password(const std::string& hash, const std::string& password) {
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES || sodium_init() < 0)
    return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

} // namespace chat::auth
