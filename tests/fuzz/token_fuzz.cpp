// Fuzz target: access and refresh tokens as clients present them (JWT HS256). The input is
// tried twice: as a whole token (shape, base64url, signature), and as "header\npayload"
// JSON signed here with the target's key, so the claim parser behind the signature check
// is reached too. Whatever the bytes: an answer, never a crash; claims that verify name a
// canonical account and an expiry after their issue time.
#include "net/auth/token.hpp"
#include "net/auth/username.hpp"

#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

constexpr int b64 = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

std::string base64url(std::string_view s) {
  std::string out(sodium_base64_encoded_len(s.size(), b64), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()),
                    s.size(), b64);
  out.resize(out.size() - 1); // the terminating NUL
  return out;
}

const std::string key_hex(64, 'a');

void check(const chat::auth::token_key& key, std::string_view token) {
  using namespace chat::auth;
  for (auto kind : {token_kind::access, token_kind::refresh}) {
    token_claims c;
    if (key.verify(token, 1700000000, kind, c) != token_error::none)
      continue;
    if (canonical_username(c.user) != c.user || c.expires_s <= 1700000000 - 60)
      std::abort();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool sodium_ready = sodium_init() >= 0;
  static const auto key = chat::auth::token_key::from_hex(key_hex);
  if (!sodium_ready)
    std::abort();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  check(key, in);
  auto nl = in.find('\n');
  if (nl == std::string_view::npos)
    return 0;
  auto signing_input = base64url(in.substr(0, nl)) + "." + base64url(in.substr(nl + 1));
  unsigned char raw_key[32];
  for (auto& b : raw_key)
    b = 0xaa;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, raw_key, sizeof raw_key);
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(signing_input.data()),
                                signing_input.size());
  crypto_auth_hmacsha256_final(&st, mac);
  check(key, signing_input + "." + base64url({reinterpret_cast<const char*>(mac), sizeof mac}));
  return 0;
}
