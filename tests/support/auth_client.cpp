// Account API and token helpers for end-to-end tests (see auth_client.hpp).
#include "support/auth_client.hpp"

#include "net/auth/token.hpp"
#include "support/node_process.hpp"
#include "support/raw_socket.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <sys/stat.h>

namespace chat::test {

token_key_file::token_key_file() {
  hex = auth::token_key::generate_hex();
  path = make_temp_dir() + "/token.key";
  std::ofstream(path) << hex << "\n";
  ::chmod(path.c_str(), 0600);
}

std::vector<std::string> token_key_file::node_args() const {
  return {"--security.allow-anonymous=false", "--security.token-key=" + path};
}

std::string token_key_file::mint(const std::string& user, int64_t iat_s, int64_t exp_s,
                                 const std::string& kind) const {
  auto key = auth::token_key::from_hex(hex);
  return key.sign({user, iat_s, exp_s,
                   kind == "refresh" ? auth::token_kind::refresh : auth::token_kind::access});
}

int64_t unix_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string credentials_body(const std::string& user, const std::string& password) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("username");
  w.String(user.c_str(), rapidjson::SizeType(user.size()));
  w.Key("password");
  w.String(password.c_str(), rapidjson::SizeType(password.size()));
  w.EndObject();
  return buf.GetString();
}

api_answer api_post(uint16_t port, const std::string& op, const std::string& body,
                    const http_fields& fields) {
  http_fields all = {{"Content-Type", "application/json"}};
  all.insert(all.end(), fields.begin(), fields.end());
  auto r = http_request(port, "POST", "/api/" + op, all, body);
  api_answer a;
  a.status = r.status;
  a.body = r.body;
  a.retry_after = r.field("Retry-After");
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  if (doc.HasParseError() || !doc.IsObject())
    return a;
  auto str = [&](const char* k) {
    return doc.HasMember(k) && doc[k].IsString() ? std::string(doc[k].GetString()) : "";
  };
  a.error = str("error");
  a.user = str("user");
  a.token = str("token");
  a.refresh_token = str("refresh_token");
  if (doc.HasMember("expires") && doc["expires"].IsInt64())
    a.expires = doc["expires"].GetInt64();
  return a;
}

std::string register_user(uint16_t port, const std::string& user, const std::string& password) {
  auto a = api_post(port, "register", credentials_body(user, password));
  if (a.status != 201)
    throw std::runtime_error("register " + user + ": " + std::to_string(a.status) + " " + a.body);
  return a.token;
}

std::string upgrade_answer(uint16_t port, const std::string& target, const std::string& fields) {
  raw_socket s(port);
  s.send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
         "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + fields + "\r\n");
  return s.read_response(std::chrono::seconds(10));
}

std::string error_of(const std::string& response) {
  auto body = response.find("\r\n\r\n");
  if (body == std::string::npos)
    return {};
  rapidjson::Document doc;
  doc.Parse(response.c_str() + body + 4);
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("error") || !doc["error"].IsString())
    return {};
  return doc["error"].GetString();
}

} // namespace chat::test
