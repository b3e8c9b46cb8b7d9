// A tiny synchronous HTTP/1.1 client (Boost.Beast): one request per connection, bounded
// by an overall timeout.
#pragma once

#include "endpoint.hpp"

#include <chrono>
#include <string>

namespace chat::chatctl {

struct http_response {
  int status = 0;
  std::string body;
};

// Sends `method` `target` to `ep` (with `json_body` as an application/json body when it is
// not empty) and reads the whole response. Throws chatctl_error with a one-line message when
// the endpoint cannot be reached, does not answer within `timeout`, or answers something that
// is not HTTP.
http_response http_request(const endpoint& ep, const std::string& method,
                           const std::string& target, std::chrono::milliseconds timeout,
                           const std::string& json_body = "");

} // namespace chat::chatctl
