// WebSocket handshake checks and the native endpoint's decision (see upgrade.hpp).
#include "net/upgrade.hpp"

#include "net/http_fields.hpp"
#include "net/json_reply.hpp"

#include <boost/beast/websocket/rfc6455.hpp>
#include <openssl/evp.h>

namespace chat::net {

namespace {

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+'
         || c == '/';
}

// The base64 text of 16 bytes: 22 characters and "==".
bool valid_websocket_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==")
    return false;
  for (size_t i = 0; i < 22; ++i)
    if (!is_base64_char(key[i]))
      return false;
  return true;
}

upgrade_check refuse(http_reply reply) {
  upgrade_check c;
  c.refusal = std::move(reply);
  return c;
}

upgrade_check refuse(int status, std::string_view message) {
  return refuse(json_error(status, message));
}

} // namespace

std::string websocket_accept_key(std::string_view client_key) {
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input(client_key);
  input.append(guid);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EVP_Digest(input.data(), input.size(), md, &md_len, EVP_sha1(), nullptr);
  unsigned char out[64] = {};
  int n = EVP_EncodeBlock(out, md, int(md_len));
  return std::string(reinterpret_cast<char*>(out), size_t(n));
}

upgrade_check check_websocket_upgrade(const http_request& req) {
  if (req.method() != http::verb::get) {
    auto r = json_error(405, "a WebSocket opens with GET");
    r.headers.emplace_back("Allow", "GET");
    return refuse(std::move(r));
  }
  if (!boost::beast::websocket::is_upgrade(req)) {
    auto r = json_error(426, "WebSocket upgrade required (HTTP/1.1, Connection: Upgrade, "
                             "Upgrade: websocket)");
    r.headers.emplace_back("Upgrade", "websocket");
    r.headers.emplace_back("Connection", "Upgrade");
    return refuse(std::move(r));
  }
  if (req.count(http::field::host) != 1)
    return refuse(400, "bad WebSocket handshake: one Host field required");
  if (req.count(http::field::sec_websocket_version) != 1)
    return refuse(400, "bad WebSocket handshake: one Sec-WebSocket-Version field required");
  if (req[http::field::sec_websocket_version] != "13") {
    auto r = json_error(426, "unsupported WebSocket version (this server speaks 13)");
    r.headers.emplace_back("Sec-WebSocket-Version", "13");
    return refuse(std::move(r));
  }
  auto key = req[http::field::sec_websocket_key];
  if (req.count(http::field::sec_websocket_key) != 1
      || !valid_websocket_key(std::string_view(key.data(), key.size())))
    return refuse(400, "bad WebSocket handshake: Sec-WebSocket-Key must be 16 bytes in base64");
  upgrade_check c;
  c.accepted = true;
  c.response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Accept: "
               + websocket_accept_key(std::string_view(key.data(), key.size())) + "\r\n\r\n";
  return c;
}

bool valid_user_name(std::string_view u) {
  if (u.empty() || u.size() > 64)
    return false;
  for (char c : u)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'
          || c == '-' || c == '.'))
      return false;
  return true;
}

presented_credential find_token(const http_request& req, const url_target& target) {
  presented_credential c;
  auto query = find_single_param(target, "token");
  if (!query.error.empty()) {
    c.error = query.error;
    return c;
  }
  auto n = req.count(http::field::authorization);
  if (n > 1) {
    c.error = "one Authorization field at most";
    return c;
  }
  if (n == 1) {
    auto v = req[http::field::authorization];
    std::string_view token;
    if (!bearer_token(std::string_view(v.data(), v.size()), token)) {
      c.error = "Authorization must be 'Bearer TOKEN'";
      return c;
    }
    if (query.found) {
      c.error = "give the token once: Authorization or ?token=, not both";
      return c;
    }
    c.token.assign(token.data(), token.size());
    return c;
  }
  c.token = query.value;
  if (query.found && c.token.empty())
    c.error = "token must not be empty";
  return c;
}

native_ws_decision decide_native_ws(const http_request& req, const url_target& target,
                                    const native_ws_policy& policy) {
  native_ws_decision d;
  d.upgrade = check_websocket_upgrade(req);
  if (!d.upgrade.accepted)
    return d;
  auto refuse_with = [&](int status, std::string_view message) {
    d.upgrade = refuse(status, message);
    return d;
  };
  if (policy.origins && !policy.origins->allows(req)) {
    d.upgrade = refuse(allowed_origins::refusal());
    return d;
  }
  auto user = find_single_param(target, "user");
  auto ack = find_single_param(target, "ack");
  for (auto* p : {&user, &ack})
    if (!p->error.empty())
      return refuse_with(400, p->error);
  auto cred = find_token(req, target);
  if (!cred.error.empty())
    return refuse_with(400, cred.error);
  if (!cred.token.empty() && user.found)
    return refuse_with(400, "give either a token or ?user=, not both");
  if (cred.token.empty() && !policy.allow_anonymous)
    return refuse_with(401, "authentication required: present a token (Authorization: Bearer, "
                            "or ?token=)");
  if (!user.value.empty() && !valid_user_name(user.value))
    return refuse_with(400, "user must be 1..64 characters of A-Z a-z 0-9 _ - .");
  if (!ack.value.empty() && ack.value != "seq" && ack.value != "persisted")
    return refuse_with(400, "ack must be seq or persisted");
  if (!policy.accepting)
    return refuse_with(503, "not accepting connections (net.max-connections reached, or draining)");
  d.user = user.value;
  d.token = std::move(cred.token);
  d.ack_persisted = ack.value == "persisted";
  return d;
}

} // namespace chat::net
