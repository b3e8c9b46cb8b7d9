// Cross-origin access to an HTTP endpoint that browsers use directly (Engine.IO
// long-polling and its WebSocket): which origins may use it (net.allowed-origins), the
// header fields that say so, and the answer to a CORS preflight. Requests without an
// Origin come from programs and pass; pages of the node's own origin (the Origin's host is
// the Host field) pass without CORS fields; any other origin must be listed. An empty
// list is same-origin only.
#pragma once

#include "net/http_types.hpp"

#include <string>
#include <vector>

namespace chat::net {

struct cors_policy {
  // Exact origins ("https://chat.example.com"), or "*" for any.
  std::vector<std::string> allowed_origins;

  // Whether the request may be served at all: no Origin, same-origin, or a listed one
  // (a second Origin field is refused).
  bool allows(const http_request& req) const;
  // The 403 answer for a request allows() refused.
  static http_reply refusal();
  // The request's Origin when it may read answers: one Origin field, listed (or "*").
  // Empty otherwise, also for requests without an Origin (same-origin, tools).
  std::string allowed_origin(const http_request& req) const;
  // Adds the CORS fields for `origin` (from allowed_origin) to an answer; nothing when empty.
  static void add_fields(http_reply& reply, const std::string& origin);
  // The answer to an OPTIONS preflight: 204 with the fields for an allowed origin, 403
  // otherwise.
  http_reply preflight(const http_request& req) const;
};

} // namespace chat::net
