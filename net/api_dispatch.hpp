// The account API's decision on a request before any work is done: which operation it
// asks for, or the answer that refuses it (unknown op 404, origin 403, OPTIONS preflight,
// method 405, accounts off 404, logout without `Authorization: Bearer` 401, a body not
// declared JSON 415). No I/O: api_route.cpp acts on it, and it is unit-tested
// (tests/unit/api_dispatch_test.cpp) and fuzzed (tests/fuzz/api_dispatch_fuzz.cpp).
#pragma once

#include "net/allowed_origins.hpp"
#include "net/http_types.hpp"
#include "net/url_target.hpp"

#include <cstdint>
#include <string>

namespace chat::net {

enum class api_op : uint8_t { none, register_account, login, refresh, logout };

struct api_decision {
  api_op op = api_op::none; // none: `reply` is the whole answer
  http_reply reply;         // the refusal, or the preflight's answer
  bool cors = true;         // the answer gets the CORS fields of a listed origin (not 403s
                            // from the origin check, and preflights carry their own)
  std::string bearer;       // logout: the access token as sent (never empty)
};

// `accounts_on`: the node has an account service (security.token-key).
api_decision decide_api(const http_request& req, const url_target& target,
                        const allowed_origins& origins, bool accounts_on);

} // namespace chat::net
