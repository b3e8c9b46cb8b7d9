// JWT HS256 tokens: round trip, expiry, tampering, algorithm confusion, key files.
#include "net/auth/token.hpp"

#include <catch2/catch.hpp>
#include <sodium.h>

#include <string>

using namespace chat::auth;

namespace {

token_key test_key(unsigned char fill = 7) {
  return token_key(std::vector<unsigned char>(32, fill));
}

std::string b64url(const std::string& s) {
  std::string out(sodium_base64_encoded_len(s.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), 0);
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()),
                    s.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.pop_back();
  return out;
}

// Signs any header and payload text with the test key, as another service might.
std::string sign_raw(const std::string& header_json, const std::string& payload_json) {
  auto input = b64url(header_json) + "." + b64url(payload_json);
  unsigned char sig[crypto_auth_hmacsha256_BYTES];
  std::vector<unsigned char> k(32, 7);
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, k.data(), k.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(input.data()),
                                input.size());
  crypto_auth_hmacsha256_final(&st, sig);
  return input + "." + b64url(std::string(reinterpret_cast<char*>(sig), sizeof(sig)));
}

const std::string hs256 = R"({"alg":"HS256","typ":"JWT"})";

} // namespace

TEST_CASE("a signed token verifies and gives back its claims") {
  auto key = test_key();
  auto t = key.sign({"alice", 1000, 2000, token_kind::access});
  token_claims c;
  REQUIRE(key.verify(t, 1500, token_kind::access, c) == token_error::none);
  CHECK(c.user == "alice");
  CHECK(c.issued_s == 1000);
  CHECK(c.expires_s == 2000);
  CHECK(c.kind == token_kind::access);
}

TEST_CASE("expired, future and wrong-kind tokens are refused") {
  auto key = test_key();
  token_claims c;
  auto t = key.sign({"alice", 1000, 2000, token_kind::access});
  CHECK(key.verify(t, 2000, token_kind::access, c) == token_error::expired);
  CHECK(key.verify(t, 5000, token_kind::access, c) == token_error::expired);
  CHECK(key.verify(t, 900, token_kind::access, c, 60) == token_error::not_yet_valid);
  CHECK(key.verify(t, 1500, token_kind::refresh, c) == token_error::wrong_kind);
  auto r = key.sign({"alice", 1000, 9000, token_kind::refresh});
  CHECK(key.verify(r, 1500, token_kind::refresh, c) == token_error::none);
  CHECK(key.verify(r, 1500, token_kind::access, c) == token_error::wrong_kind);
}

TEST_CASE("a token signed with another key or tampered with is refused") {
  auto key = test_key(7);
  auto other = test_key(8);
  token_claims c;
  auto t = other.sign({"alice", 1000, 2000, token_kind::access});
  CHECK(key.verify(t, 1500, token_kind::access, c) == token_error::bad_signature);

  auto good = key.sign({"alice", 1000, 2000, token_kind::access});
  auto d1 = good.find('.');
  auto d2 = good.find('.', d1 + 1);
  // Swap in a payload naming someone else, keep the signature.
  auto forged = good.substr(0, d1 + 1)
                + b64url(R"({"sub":"mallory","iat":1000,"exp":2000,"typ":"access"})")
                + good.substr(d2);
  CHECK(key.verify(forged, 1500, token_kind::access, c) == token_error::bad_signature);
  // Flip one character of the signature.
  auto flipped = good;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  CHECK(key.verify(flipped, 1500, token_kind::access, c) != token_error::none);
}

TEST_CASE("alg none and other algorithms are refused whatever the signature") {
  auto key = test_key();
  token_claims c;
  auto payload = b64url(R"({"sub":"mallory","exp":99999999999,"iat":1000})");
  CHECK(key.verify(b64url(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".", 1500,
                   token_kind::access, c)
        == token_error::malformed);
  CHECK(key.verify(b64url(R"({"alg":"HS512","typ":"JWT"})") + "." + payload + ".AAAA", 1500,
                   token_kind::access, c)
        == token_error::malformed);
}

TEST_CASE("malformed tokens are refused without trouble") {
  auto key = test_key();
  token_claims c;
  std::vector<std::string> bad_tokens = {"",        ".",           "..",
                                         "a.b.c",   "a.b",         "a.b.c.d",
                                         "!!!.???.***", std::string(5000, 'a') + ".b.c"};
  for (const auto& bad : bad_tokens)
    CHECK(key.verify(bad, 1500, token_kind::access, c) == token_error::malformed);
  // Valid signature over a payload that is not an object, or lacks sub/exp/iat.
  std::vector<std::string> payloads = {"[1,2]",
                                       R"({"exp":2000,"iat":1000})",
                                       R"({"sub":"abc","iat":1000})",
                                       R"({"sub":"abc","exp":2000})",
                                       R"({"sub":5,"exp":2000,"iat":1000})",
                                       R"({"sub":"abc","exp":"2000","iat":1000})",
                                       R"({"sub":"abc","exp":2000,"iat":1000,"nbf":"x"})",
                                       R"({"sub":"abc","exp":1e300,"iat":1000})",
                                       R"({"sub":"abc","exp":2000,"iat":1000,"typ":"admin"})"};
  for (const auto& p : payloads) {
    INFO(p);
    // Signed with the same key: the payload checks must still refuse it.
    CHECK(key.verify(sign_raw(hs256, p), 1500, token_kind::access, c) == token_error::malformed);
  }
  // A critical header extension this verifier does not understand.
  CHECK(key.verify(sign_raw(R"({"alg":"HS256","crit":["b64"],"b64":false})",
                            R"({"sub":"abc","exp":2000,"iat":1000})"),
                   1500, token_kind::access, c)
        == token_error::malformed);
}

TEST_CASE("tokens minted elsewhere: fractional dates, nbf, and subjects that are account names") {
  auto key = test_key();
  token_claims c;
  REQUIRE(key.verify(sign_raw(hs256, R"({"sub":"carol","exp":2000.9,"iat":1000.5})"), 1500,
                     token_kind::access, c)
          == token_error::none);
  CHECK(c.expires_s == 2000);
  CHECK(c.issued_s == 1000);
  CHECK(key.verify(sign_raw(hs256, R"({"sub":"carol","exp":2000,"iat":1000,"nbf":1700})"), 1500,
                   token_kind::access, c)
        == token_error::not_yet_valid);
  CHECK(key.verify(sign_raw(hs256, R"({"sub":"carol","exp":2000,"iat":1000,"nbf":1400})"), 1500,
                   token_kind::access, c)
        == token_error::none);
  for (auto sub : {"Carol", "ca", "car ol", "dm:x:y", "carol\\u0000"}) {
    INFO(sub);
    auto payload = std::string(R"({"sub":")") + sub + R"(","exp":2000,"iat":1000})";
    CHECK(key.verify(sign_raw(hs256, payload), 1500, token_kind::access, c)
          == token_error::bad_subject);
  }
}

TEST_CASE("key files are hex of at least 32 bytes") {
  auto hex = token_key::generate_hex();
  CHECK(hex.size() == 64);
  auto k = token_key::from_hex(hex + "\n");
  token_claims c;
  CHECK(k.verify(k.sign({"bob", 1, 100, token_kind::access}), 50, token_kind::access, c)
        == token_error::none);
  CHECK_THROWS(token_key::from_hex(""));
  CHECK_THROWS(token_key::from_hex("abcd"));
  CHECK_THROWS(token_key::from_hex(std::string(64, 'z')));
  CHECK(token_key::generate_hex() != hex);
}
