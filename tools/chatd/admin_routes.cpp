// Admin HTTP routes: liveness and readiness.
#include "tools/chatd/admin_routes.hpp"

#include "actors/node_context.hpp"
#include "actors/persistence_pool.hpp"

namespace chat::tools {

net::admin_handler make_admin_routes(node_context& ctx, net::server& srv) {
  return [&ctx, &srv](const std::string& method, const std::string& target) -> net::http_reply {
    auto path = target.substr(0, target.find('?'));
    if (method != "GET")
      return {405, "application/json", "{\"error\":\"method not allowed\"}"};
    if (path == "/healthz")
      return {200, "application/json", "{\"status\":\"ok\"}"};
    if (path == "/readyz") {
      bool store_ok = !ctx.persistence || ctx.persistence->healthy();
      std::string body = std::string("{\"ready\":") + (store_ok ? "true" : "false")
                         + ",\"listener\":true,\"store\":" + (store_ok ? "true" : "false")
                         + ",\"connections\":" + std::to_string(srv.session_count()) + "}";
      return {store_ok ? 200 : 503, "application/json", body};
    }
    return {404, "application/json", "{\"error\":\"not found\"}"};
  };
}

} // namespace chat::tools
