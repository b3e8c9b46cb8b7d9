// The vocabulary of the HTTP side of the network boundary: a request as Beast parses it,
// the answer a route gives, and the bounds every HTTP connection lives within.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chat::net {

namespace http = boost::beast::http;

using http_request = http::request<http::string_body>;

// One answer to one request.
struct http_reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; // extra fields (Allow, Upgrade...)
};

// Bounds of one HTTP connection (net.http-* settings).
struct http_limits {
  uint32_t header_limit = 8192;              // bytes of request line + header fields
  uint64_t body_limit = 65536;               // bytes of a request body
  std::chrono::milliseconds timeout{10000};  // to receive one request, or to send one answer
  uint32_t max_requests = 100;               // requests answered on one keep-alive connection
};

} // namespace chat::net
