// End-to-end: the operator's side of identity — `chatctl revoke USER` (POST
// /admin/users/NAME/revoke) closing a user's sockets within 5 s; admin.token guarding
// /admin/ (and required off loopback); logins, failures, token refusals and revocations in
// the access log of the SQLite store.
#include "support/auth_client.hpp"
#include "support/node_probes.hpp"
#include "support/node_process.hpp"
#include "support/raw_socket.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <sys/wait.h>

#ifndef CHATCTL_BINARY
#error "CHATCTL_BINARY must name the chatctl executable (tests/CMakeLists.txt)"
#endif

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

struct ctl_result {
  int code = -1;
  std::string out;
};

// Runs chatctl with `args` (stdout captured, stderr folded in).
ctl_result chatctl(uint16_t admin_port, const std::string& args) {
  auto cmd = std::string("'") + CHATCTL_BINARY + "' --timeout 15 --admin 127.0.0.1:"
             + std::to_string(admin_port) + " " + args + " 2>&1";
  ctl_result r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    r.out.append(buf, n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

} // namespace

TEST_CASE("chatctl revoke closes a user's connections within 5 s and refuses their tokens") {
  token_key_file key;
  node_process node(key.node_args());
  auto token = register_user(node.port(), "mallory", "mallory's password");
  auto keep = register_user(node.port(), "oscar", "oscar's password");
  ws_client a(node.port(), "token=" + token), b(node.port(), "token=" + token);
  ws_client bystander(node.port(), "token=" + keep);

  auto t0 = std::chrono::steady_clock::now();
  auto r = chatctl(node.admin_port(), "revoke mallory");
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("closed 2 connections") != std::string::npos);
  for (auto* c : {&a, &b}) {
    std::string reason;
    REQUIRE(c->closed_within(5s, &reason));
    CHECK(c->close_code() == 4002);
  }
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK(error_of(upgrade_answer(node.port(), "/ws?token=" + token)) == "token revoked");
  bystander.send(R"({"op":"ping"})");
  CHECK(bystander.next_op("pong").op() == "pong");
  // Names are account names.
  CHECK(chatctl(node.admin_port(), "revoke 'Not A Name'").code == 1);
}

TEST_CASE("admin.token guards /admin/ and is required off loopback") {
  std::string out;
  CHECK(run_chatd({"--storage.backend=memory", "--security.allow-anonymous=true",
                   "--admin.host=0.0.0.0", "--admin.port=0", "--net.port=0"},
                  out)
        == 2);
  CHECK(out.find("admin.token") != std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);

  const std::string secret = "s3cret-admin-token-0123";
  node_process node({"--storage.backend=memory", "--admin.host=0.0.0.0",
                     "--admin.token=" + secret});
  ws_client c(node.port(), "user=peggy");
  auto no_token = http_request(node.admin_port(), "GET", "/admin/users");
  CHECK(no_token.status == 401);
  CHECK(no_token.field("WWW-Authenticate") == "Bearer");
  CHECK(http_request(node.admin_port(), "GET", "/admin/users",
                     {{"Authorization", "Bearer wrong-token-000000000"}})
          .status
        == 401);
  CHECK(http_request(node.admin_port(), "POST", "/admin/users/peggy/kick",
                     {{"Content-Type", "application/json"}}, "{}")
          .status
        == 401);
  auto with = http_request(node.admin_port(), "GET", "/admin/users",
                           {{"Authorization", "Bearer " + secret}});
  CHECK(with.status == 200);
  CHECK(with.body.find("peggy") != std::string::npos);
  // Health and metrics hold no user data and stay open for probes.
  CHECK(http_request(node.admin_port(), "GET", "/healthz").status == 200);
  CHECK(http_request(node.admin_port(), "GET", "/metrics").status == 200);
  CHECK(chatctl(node.admin_port(), "users").code == 1);
  auto ok = chatctl(node.admin_port(), "--admin-token " + secret + " users");
  CHECK(ok.code == 0);
  CHECK(ok.out.find("peggy") != std::string::npos);
}

TEST_CASE("logins, failures, token refusals and revocations reach the access log") {
  token_key_file key;
  auto dir = make_temp_dir();
  auto args = key.node_args();
  node_process node(args, dir);
  auto port = node.port();
  register_user(port, "trent", "trent's password");
  CHECK(api_post(port, "login", credentials_body("trent", "not it at all")).status == 401);
  auto login = api_post(port, "login", credentials_body("trent", "trent's password"));
  REQUIRE(login.status == 200);
  CHECK(status_of(upgrade_answer(port, "/ws?token=" + key.mint("trent", 1, 2))) == 401);
  CHECK(chatctl(node.admin_port(), "revoke trent").code == 0);
  CHECK(node.stop() == 0); // SIGTERM flushes the access log
  auto log = sqlite_query(dir + "/chat.db",
                          "SELECT user || ':' || event || ':' || reason || '@' || remote || '/' "
                          "|| node FROM access_log ORDER BY id");
  INFO(log);
  CHECK(log.find("trent:register:@127.0.0.1/test-node") != std::string::npos);
  CHECK(log.find("trent:login_failed:wrong password@127.0.0.1/test-node") != std::string::npos);
  CHECK(log.find("trent:login:@127.0.0.1/test-node") != std::string::npos);
  CHECK(log.find("trent:token_refused:token expired@127.0.0.1/test-node") != std::string::npos);
  CHECK(log.find("trent:revoke:0 connection(s) closed@admin/test-node") != std::string::npos);
}

TEST_CASE("accounts and revocations persist in the SQLite store across restarts") {
  token_key_file key;
  auto dir = make_temp_dir();
  std::string revoked_token;
  {
    node_process node(key.node_args(), dir);
    register_user(node.port(), "walter", "walter's password");
    revoked_token = register_user(node.port(), "victor", "victor's password");
    REQUIRE(chatctl(node.admin_port(), "revoke victor").code == 0);
    CHECK(node.stop() == 0);
  }
  node_process node(key.node_args(), dir);
  auto port = node.port();
  CHECK(api_post(port, "register", credentials_body("walter", "another password")).status
        == 409);
  CHECK(api_post(port, "login", credentials_body("walter", "not walter's")).status == 401);
  auto login = api_post(port, "login", credentials_body("walter", "walter's password"));
  REQUIRE(login.status == 200);
  ws_client c(port, "token=" + login.token);
  c.send(R"({"op":"ping"})");
  CHECK(c.next_op("pong").op() == "pong");
  CHECK(error_of(upgrade_answer(port, "/ws?token=" + revoked_token)) == "token revoked");
  // Refusals are counted by reason.
  auto metrics = http_request(node.admin_port(), "GET", "/metrics").body;
  CHECK(metrics.find("chat_token_refusals_total{reason=\"revoked\"} 1") != std::string::npos);
  CHECK(metrics.find("chat_auth_events_total{event=\"login_failures\"} 1") != std::string::npos);
}
