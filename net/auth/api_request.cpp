// Account API bodies (see api_request.hpp).
#include "net/auth/api_request.hpp"

#include "net/auth/password_hash.hpp"
#include "net/auth/token.hpp"
#include "net/auth/username.hpp"

#include <rapidjson/document.h>

namespace chat::auth {

namespace {

constexpr unsigned max_members = 16;

// Parses `body` as one JSON object; "" or the error.
std::string parse_object(std::string_view body, rapidjson::Document& doc) {
  doc.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(body.data(),
                                                                                   body.size());
  if (doc.HasParseError())
    return "body must be JSON (UTF-8)";
  if (!doc.IsObject())
    return "body must be a JSON object";
  if (doc.MemberCount() > max_members)
    return "body has too many fields";
  return {};
}

// The string member `key`; "" or the error.
std::string get_string(const rapidjson::Document& doc, const char* key, std::string& out) {
  auto i = doc.FindMember(key);
  if (i == doc.MemberEnd())
    return std::string("missing field '") + key + "'";
  if (!i->value.IsString())
    return std::string("field '") + key + "' must be a string";
  out.assign(i->value.GetString(), i->value.GetStringLength());
  return {};
}

} // namespace

std::string parse_credentials(std::string_view body, credentials_use use, credentials& out) {
  rapidjson::Document doc;
  std::string name;
  auto err = parse_object(body, doc);
  if (err.empty())
    err = get_string(doc, "username", name);
  if (err.empty())
    err = get_string(doc, "password", out.password);
  if (!err.empty())
    return err;
  out.username = canonical_username(name);
  if (out.username.empty())
    return username_rules();
  size_t min = use == credentials_use::register_account ? min_password : 1;
  if (out.password.size() < min || out.password.size() > max_password)
    return "password must be " + std::to_string(min) + ".." + std::to_string(max_password)
           + " bytes";
  return {};
}

std::string parse_refresh(std::string_view body, std::string& token) {
  rapidjson::Document doc;
  auto err = parse_object(body, doc);
  if (err.empty())
    err = get_string(doc, "refresh_token", token);
  if (err.empty() && (token.empty() || token.size() > token_key::max_token_bytes))
    err = "refresh_token must be 1.." + std::to_string(token_key::max_token_bytes) + " bytes";
  return err;
}

} // namespace chat::auth
