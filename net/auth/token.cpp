// JWT HS256 signing and verification on libsodium (HMAC-SHA-256, base64url) and RapidJSON.
#include "net/auth/token.hpp"

#include "net/auth/username.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sodium.h>

#include <cmath>
#include <stdexcept>

namespace chat::auth {

namespace {

constexpr int b64_variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
// The only header this node writes; others are accepted when they say HS256 and JWT.
const char* const header_json = R"({"alg":"HS256","typ":"JWT"})";

std::string b64url(const void* data, size_t size) {
  std::string out(sodium_base64_encoded_len(size, b64_variant), '\0');
  sodium_bin2base64(out.data(), out.size(), static_cast<const unsigned char*>(data), size,
                    b64_variant);
  out.resize(out.size() - 1); // the terminating NUL
  return out;
}

bool unb64url(std::string_view in, std::string& out) {
  out.resize(in.size()); // decoded data is always shorter
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), in.data(),
                        in.size(), nullptr, &len, &end, b64_variant)
        != 0
      || end != in.data() + in.size())
    return false;
  out.resize(len);
  return true;
}

void mac(const std::vector<unsigned char>& key, std::string_view signing_input,
         unsigned char out[crypto_auth_hmacsha256_BYTES]) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(signing_input.data()),
                                signing_input.size());
  crypto_auth_hmacsha256_final(&st, out);
}

// A small JSON object of the token: at most this deep and this many members.
using json_doc = rapidjson::Document;
bool parse_object(const std::string& text, json_doc& doc) {
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(),
                                                                                   text.size());
  return !doc.HasParseError() && doc.IsObject() && doc.MemberCount() <= 32;
}

// A NumericDate (RFC 7519 2): seconds since the epoch, an integer or not (floored); values
// outside +-2^53 are refused rather than converted.
enum class date_field { missing, bad, ok };
date_field get_date(const json_doc& doc, const char* key, int64_t& out) {
  auto i = doc.FindMember(key);
  if (i == doc.MemberEnd())
    return date_field::missing;
  if (i->value.IsInt64()) {
    out = i->value.GetInt64();
  } else if (i->value.IsNumber()) {
    double d = i->value.GetDouble();
    if (!std::isfinite(d) || std::fabs(d) > 9007199254740992.0)
      return date_field::bad;
    out = int64_t(std::floor(d));
  } else {
    return date_field::bad;
  }
  return out > -(int64_t(1) << 53) && out < (int64_t(1) << 53) ? date_field::ok : date_field::bad;
}

} // namespace

const char* to_string(token_error e) {
  switch (e) {
    case token_error::none: return "ok";
    case token_error::malformed: return "malformed token";
    case token_error::bad_signature: return "token signature does not verify";
    case token_error::expired: return "token expired";
    case token_error::not_yet_valid: return "token issued in the future";
    case token_error::wrong_kind: return "wrong token type";
    case token_error::bad_subject: return "token subject is not a valid user name";
    case token_error::revoked: return "token revoked";
  }
  return "malformed token";
}

token_key::token_key(std::vector<unsigned char> bytes) : key_(std::move(bytes)) {
  if (sodium_init() < 0)
    throw std::runtime_error("libsodium cannot be initialised");
  if (key_.size() < min_bytes)
    throw std::runtime_error("token key must have at least " + std::to_string(min_bytes)
                             + " bytes");
}

token_key::~token_key() {
  if (!key_.empty())
    sodium_memzero(key_.data(), key_.size());
}

token_key::token_key(token_key&& o) noexcept : key_(std::move(o.key_)) {}

token_key& token_key::operator=(token_key&& o) noexcept {
  if (this != &o) {
    if (!key_.empty())
      sodium_memzero(key_.data(), key_.size());
    key_ = std::move(o.key_);
  }
  return *this;
}

token_key token_key::from_hex(std::string_view text) {
  auto b = text.find_first_not_of(" \t\r\n");
  auto e = text.find_last_not_of(" \t\r\n");
  if (b == std::string_view::npos)
    throw std::runtime_error("token key file is empty (make one with chatd --gen-token-key)");
  text = text.substr(b, e - b + 1);
  std::vector<unsigned char> bytes(text.size() / 2 + 1);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &len, &end)
        != 0
      || end != text.data() + text.size())
    throw std::runtime_error("token key file must hold hex digits only");
  bytes.resize(len);
  return token_key(std::move(bytes));
}

std::string token_key::generate_hex() {
  if (sodium_init() < 0)
    throw std::runtime_error("libsodium cannot be initialised");
  unsigned char bytes[min_bytes];
  randombytes_buf(bytes, sizeof(bytes));
  char hex[min_bytes * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), bytes, sizeof(bytes));
  sodium_memzero(bytes, sizeof(bytes));
  return hex;
}

std::string token_key::sign(const token_claims& claims) const {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("sub");
  w.String(claims.user.data(), rapidjson::SizeType(claims.user.size()));
  w.Key("iat");
  w.Int64(claims.issued_s);
  w.Key("exp");
  w.Int64(claims.expires_s);
  w.Key("typ");
  w.String(claims.kind == token_kind::refresh ? "refresh" : "access");
  w.EndObject();
  std::string out = b64url(header_json, std::char_traits<char>::length(header_json));
  out += '.';
  out += b64url(buf.GetString(), buf.GetSize());
  unsigned char sig[crypto_auth_hmacsha256_BYTES];
  mac(key_, out, sig);
  out += '.';
  out += b64url(sig, sizeof(sig));
  return out;
}

token_error token_key::verify(std::string_view token, int64_t now_s, token_kind expected,
                              token_claims& out, int64_t skew_s) const {
  if (token.empty() || token.size() > max_token_bytes)
    return token_error::malformed;
  auto d1 = token.find('.');
  auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return token_error::malformed;
  std::string header, payload, sig;
  if (!unb64url(token.substr(0, d1), header) || !unb64url(token.substr(d1 + 1, d2 - d1 - 1), payload)
      || !unb64url(token.substr(d2 + 1), sig))
    return token_error::malformed;
  json_doc h;
  if (!parse_object(header, h))
    return token_error::malformed;
  auto alg = h.FindMember("alg");
  if (alg == h.MemberEnd() || !alg->value.IsString()
      || std::string_view(alg->value.GetString(), alg->value.GetStringLength()) != "HS256"
      || h.HasMember("crit"))
    return token_error::malformed;
  // The signature is checked before anything in the payload is believed.
  unsigned char expect[crypto_auth_hmacsha256_BYTES];
  mac(key_, token.substr(0, d2), expect);
  if (sig.size() != sizeof(expect) || sodium_memcmp(expect, sig.data(), sizeof(expect)) != 0)
    return token_error::bad_signature;
  json_doc p;
  if (!parse_object(payload, p))
    return token_error::malformed;
  auto sub = p.FindMember("sub");
  if (sub == p.MemberEnd() || !sub->value.IsString() || sub->value.GetStringLength() == 0)
    return token_error::malformed;
  token_claims c;
  c.user.assign(sub->value.GetString(), sub->value.GetStringLength());
  int64_t not_before = 0;
  auto nbf = get_date(p, "nbf", not_before);
  if (get_date(p, "exp", c.expires_s) != date_field::ok
      || get_date(p, "iat", c.issued_s) != date_field::ok || nbf == date_field::bad)
    return token_error::malformed;
  if (auto typ = p.FindMember("typ"); typ != p.MemberEnd()) {
    if (!typ->value.IsString())
      return token_error::malformed;
    std::string_view t(typ->value.GetString(), typ->value.GetStringLength());
    if (t == "refresh")
      c.kind = token_kind::refresh;
    else if (t != "access")
      return token_error::malformed;
  }
  out = c; // signed claims: callers may log whose token failed the checks below
  if (c.kind != expected)
    return token_error::wrong_kind;
  if (now_s >= c.expires_s)
    return token_error::expired;
  if (c.issued_s > now_s + skew_s || (nbf == date_field::ok && not_before > now_s + skew_s))
    return token_error::not_yet_valid;
  if (canonical_username(c.user) != c.user)
    return token_error::bad_subject;
  return token_error::none;
}

} // namespace chat::auth
