// The client listener's browser policy (net.allowed-origins): an exact allow-list of
// origins ("https://chat.example.com"; "*" allows any). Requests without an Origin field
// come from programs, not web pages, and pass; so do pages of the node's own origin (the
// Origin's host is the Host field: an empty list means same-origin only); a page from any
// other origin gets 403 at the WebSocket upgrade and on the account API. Allowed origins also get the CORS answers
// the account API needs (preflight, Access-Control-Allow-Origin).
#pragma once

#include "net/http_types.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace chat::net {

class allowed_origins {
public:
  allowed_origins() = default;
  explicit allowed_origins(std::vector<std::string> list);

  // True when the request has no Origin, or exactly one that is allowed or same-origin.
  bool allows(const http_request& req) const;
  // The 403 answer for a request allows() refused.
  static http_reply refusal();
  // Adds Access-Control-Allow-Origin (and Vary) for an allowed request with an Origin.
  void add_cors(const http_request& req, http_reply& reply) const;

private:
  bool any_ = false;
  std::vector<std::string> list_;
};

} // namespace chat::net
