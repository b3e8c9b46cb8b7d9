// Test helpers for accounts and tokens: a node's token key (made here, so tests can also
// mint tokens the node must accept or refuse), the account API over HTTP, and the raw
// answer to a WebSocket upgrade.
#pragma once

#include "support/http_get.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace chat::test {

// A fresh key file in a temporary directory.
struct token_key_file {
  token_key_file();
  std::string path;
  std::string hex;
  // The node's arguments for tokens only (anonymous access off).
  std::vector<std::string> node_args() const;
  // A token signed with this key (kind "access" or "refresh").
  std::string mint(const std::string& user, int64_t iat_s, int64_t exp_s,
                   const std::string& kind = "access") const;
};

int64_t unix_now_s();

// One answer of the account API, its JSON read.
struct api_answer {
  int status = 0;
  std::string error, user, token, refresh_token, retry_after, body;
  int64_t expires = 0;
};

api_answer api_post(uint16_t port, const std::string& op, const std::string& body,
                    const http_fields& fields = {});
std::string credentials_body(const std::string& user, const std::string& password);
// Registers (201 expected) and returns the access token.
std::string register_user(uint16_t port, const std::string& user, const std::string& password);

// The node's whole answer to a WebSocket upgrade of `target` with extra `fields`
// ("HTTP/1.1 101 ..." or a refusal with its JSON body).
std::string upgrade_answer(uint16_t port, const std::string& target,
                           const std::string& fields = "");
// The "error" text of an HTTP answer's JSON body ("" when none).
std::string error_of(const std::string& response);

} // namespace chat::test
