// Password hashing: Argon2id through libsodium's crypto_pwhash_str (the encoded hash holds
// salt and limits, so limits can change without rehashing old accounts). Slow by design:
// call it on a work_pool thread, never on a network or actor thread.
#pragma once

#include <cstdint>
#include <string>

namespace chat::auth {

struct pwhash_limits {
  uint64_t ops = 2;              // crypto_pwhash_OPSLIMIT_INTERACTIVE
  uint64_t mem_bytes = 64 << 20; // crypto_pwhash_MEMLIMIT_INTERACTIVE
};

// Passwords are 8..1024 bytes of anything (hashed as bytes, no normalisation).
constexpr size_t min_password = 8;
constexpr size_t max_password = 1024;

// The encoded hash ("$argon2id$..."), "" when hashing failed (e.g. out of memory).
std::string hash_password(const std::string& password, pwhash_limits limits);
// True when `password` matches `hash`; false for any hash that does not parse.
bool verify_password(const std::string& hash, const std::string& password);

} // namespace chat::auth
