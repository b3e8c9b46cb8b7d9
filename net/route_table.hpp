// Which handler serves a request path, on one listener. A route is a path prefix: one that
// ends in '/' serves everything under it ("/socket.io/", "/api/"), any other serves that
// exact path ("/ws", "/healthz"). The longest matching route wins. Paths are matched as
// sent, before percent-decoding.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace chat::net {

class http_exchange;

// Serves one request: answers it through the exchange now or later, or takes the connection
// over (WebSocket upgrade). Runs on the connection's network thread.
using route_handler = std::function<void(http_exchange&)>;

class route_table {
public:
  // Adds or replaces the route for `prefix` (which starts with '/').
  void add(std::string prefix, route_handler handler);
  // The handler for `path`, or nullptr when no route matches.
  const route_handler* find(std::string_view path) const;
  // The route prefix that serves `path` ("" when none): for logs and tests.
  std::string_view match(std::string_view path) const;

private:
  std::map<std::string, route_handler, std::less<>> routes_;
};

} // namespace chat::net
