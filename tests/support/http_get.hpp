// Minimal HTTP requests for tests (admin endpoint): status code and body.
#pragma once

#include <cstdint>
#include <string>

namespace chat::test {

struct http_result {
  int status = 0;
  std::string body;
};

http_result http_request(uint16_t port, const std::string& method, const std::string& target);
inline http_result http_get(uint16_t port, const std::string& target) {
  return http_request(port, "GET", target);
}

} // namespace chat::test
