// Minimal HTTP requests for tests (admin endpoint): status code and body.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chat::test {

struct http_result {
  int status = 0;
  std::string body;
};

using http_fields = std::vector<std::pair<std::string, std::string>>;

// One request on a fresh connection; `fields` are added to (or replace) Host.
http_result http_request(uint16_t port, const std::string& method, const std::string& target,
                         const http_fields& fields = {}, const std::string& body = "");
inline http_result http_get(uint16_t port, const std::string& target) {
  return http_request(port, "GET", target);
}

} // namespace chat::test
