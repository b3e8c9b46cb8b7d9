// A field of a route's answer by name, as unit tests of the HTTP boundary read them.
#pragma once

#include "net/http_types.hpp"

#include <string>
#include <string_view>

namespace chat::test {

// The value of the first `name` field (exact spelling) of `r`, "" when it has none.
inline std::string reply_field(const net::http_reply& r, std::string_view name) {
  for (auto& [n, v] : r.headers)
    if (n == name)
      return v;
  return {};
}

} // namespace chat::test
