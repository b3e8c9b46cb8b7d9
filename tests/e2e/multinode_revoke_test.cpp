// End-to-end: revocations reach every node through Redis. A user connected to two nodes is
// revoked on one (the admin endpoint behind `chatctl revoke`, or POST /api/logout): both
// sockets close with 4002 within 5 s, both nodes refuse the token afterwards, and each node
// that closed connections writes an access-log row.
#include "support/auth_client.hpp"
#include "support/eventually.hpp"
#include "support/multinode.hpp"
#include "support/node_probes.hpp"

#include <catch2/catch.hpp>

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

// Every node answers /readyz 200: Redis reachable, its subscriptions in place.
bool all_ready(node_group& c) {
  return eventually([&] {
    for (size_t i = 0; i < c.nodes.size(); ++i)
      if (http_get(c.admin_port(i), "/readyz").status != 200)
        return false;
    return true;
  });
}

void closed_revoked(ws_client& c) {
  std::string reason;
  REQUIRE(c.closed_within(5s, &reason));
  CHECK(c.close_code() == 4002);
}

} // namespace

TEST_CASE("a revocation on one node closes the user's sockets on every node") {
  redis_server redis;
  token_key_file key;
  node_group c(redis.uri(), 2, key.node_args());
  REQUIRE(all_ready(c));
  // One shared store: an account registered on one node logs in on any.
  auto token = register_user(c.port(0), "mallory", "mallory's password");
  auto keep = register_user(c.port(1), "oscar", "oscar's password");
  ws_client here(c.port(0), "token=" + token), there(c.port(1), "token=" + token);
  ws_client bystander(c.port(1), "token=" + keep);

  auto t0 = std::chrono::steady_clock::now();
  auto r = http_request(c.admin_port(0), "POST", "/admin/users/mallory/revoke",
                        {{"Content-Type", "application/json"}}, "{}");
  INFO(r.body);
  REQUIRE(r.status == 200);
  closed_revoked(here);
  closed_revoked(there);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  for (size_t i = 0; i < 2; ++i)
    CHECK(error_of(upgrade_answer(c.port(i), "/ws?token=" + token)) == "token revoked");
  bystander.send(R"({"op":"ping"})");
  CHECK(bystander.next_op("pong").op() == "pong");

  // Each node that acted says so in the access log (one SQLite store for both).
  auto revokes = [&] {
    return sqlite_query(c.data + "/chat.db",
                        "SELECT user || ':' || reason || '@' || remote || '/' || node "
                        "FROM access_log WHERE event = 'revoke' ORDER BY id");
  };
  CHECK(eventually([&] {
    auto log = revokes();
    return log.find("mallory:1 connection(s) closed@admin/n0") != std::string::npos
           && log.find("mallory:1 connection(s) closed@node n0/n1") != std::string::npos;
  }));
  INFO(revokes());
}

namespace {

void logout_closes_everywhere(const std::string& uri) {
  token_key_file key;
  node_group c(uri, 2, key.node_args());
  REQUIRE(all_ready(c));
  auto token = register_user(c.port(1), "trudy", "trudy's password");
  ws_client there(c.port(0), "token=" + token);

  auto t0 = std::chrono::steady_clock::now();
  auto out = api_post(c.port(1), "logout", "{}", {{"Authorization", "Bearer " + token}});
  REQUIRE(out.status == 200);
  closed_revoked(there);
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK(error_of(upgrade_answer(c.port(0), "/ws?token=" + token)) == "token revoked");
}

} // namespace

TEST_CASE("logging out on one node closes the user's sockets on the others") {
  redis_server redis;
  logout_closes_everywhere(redis.uri());
}

TEST_CASE("logging out closes the user's sockets on every node, on a Redis Cluster") {
  redis_cluster cluster; // the revocations channel shares the {presence} hash tag
  logout_closes_everywhere(cluster.uri());
}
