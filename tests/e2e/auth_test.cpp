// End-to-end: accounts and tokens on a real chatd with anonymous access off — register,
// login, connect with the token (query or Authorization), chat; bad input and name rules;
// forged, tampered, expired, wrong-kind and revoked tokens refused at the upgrade with 401
// and one reason; logout closing open sockets; token expiry closing a connection (4001)
// unless refreshed in-band; refresh tokens; the Origin allow-list (net.allowed-origins).
#include "support/auth_client.hpp"
#include "support/node_process.hpp"
#include "support/raw_socket.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

std::string bearer(const std::string& token) {
  return "Authorization: Bearer " + token + "\r\n";
}

} // namespace

TEST_CASE("register, log in, connect with the token and chat") {
  token_key_file key;
  node_process node(key.node_args());
  auto port = node.port();

  auto reg = api_post(port, "register", credentials_body("Alice", "correct horse"));
  REQUIRE(reg.status == 201);
  CHECK(reg.user == "alice"); // names fold to lower case
  CHECK(reg.expires > unix_now_s() + 3000);
  CHECK_FALSE(reg.refresh_token.empty());
  register_user(port, "bob", "battery staple");

  auto login = api_post(port, "login", credentials_body("ALICE", "correct horse"));
  REQUIRE(login.status == 200);
  CHECK(login.user == "alice");

  // The token on the URL, and in an Authorization field.
  ws_client alice(port, "token=" + login.token);
  CHECK(alice.hello().str("user") == "alice");
  ws_client bob(port, "", {{"Authorization", "Bearer " + reg.token}});
  CHECK(bob.hello().str("user") == "alice"); // reg.token is alice's too
  ws_client bob2(port, "token=" + api_post(port, "login", credentials_body("bob", "battery staple")).token);
  CHECK(bob2.hello().str("user") == "bob");

  alice.join("lobby");
  bob2.join("lobby");
  alice.send(send_frame("lobby", "hello bob", "c1"));
  auto m = bob2.next_op("msg");
  CHECK(m.str("from") == "alice");
  CHECK(m.str("text") == "hello bob");

  // Anonymous names are refused on this node, and nobody can claim alice without a token.
  auto anon = upgrade_answer(port, "/ws?user=alice");
  CHECK(status_of(anon) == 401);
  CHECK(error_of(anon).find("authentication required") == 0);
  CHECK(status_of(upgrade_answer(port, "/ws")) == 401);
  // Token and ?user= together are ambiguous.
  CHECK(status_of(upgrade_answer(port, "/ws?user=bob&token=" + login.token)) == 400);
  CHECK(status_of(upgrade_answer(port, "/ws?token=" + login.token, bearer(login.token))) == 400);
}

TEST_CASE("the account API refuses bad input with clear errors") {
  token_key_file key;
  node_process node(key.node_args());
  auto port = node.port();
  register_user(port, "carol", "long enough");

  struct { std::string op, body; int status; std::string error; } cases[] = {
    {"register", "{", 400, "body must be JSON (UTF-8)"},
    {"register", "[]", 400, "body must be a JSON object"},
    {"register", R"({"username":"x1"})", 400, "missing field 'password'"},
    {"register", R"({"username":5,"password":"long enough"})", 400,
     "field 'username' must be a string"},
    {"register", credentials_body("ab", "long enough"), 400, "username must be 3..32"},
    {"register", credentials_body("al ice", "long enough"), 400, "username must be 3..32"},
    {"register", credentials_body("dave", "short"), 400, "password must be 8..1024 bytes"},
    {"register", credentials_body("dave", std::string(1025, 'p')), 400,
     "password must be 8..1024 bytes"},
    {"register", credentials_body("Carol", "other password"), 409, "username taken"},
    {"login", credentials_body("carol", "wrong password"), 401, "wrong username or password"},
    {"login", credentials_body("nobody", "any password"), 401, "wrong username or password"},
    {"login", credentials_body("carol", ""), 400, "password must be 1..1024 bytes"},
    {"refresh", R"({"refresh_token":"x.y.z"})", 401, "malformed token"},
    {"refresh", R"({})", 400, "missing field 'refresh_token'"},
  };
  for (auto& c : cases) {
    INFO(c.op << " " << c.body.substr(0, 80));
    auto a = api_post(port, c.op, c.body);
    CHECK(a.status == c.status);
    CHECK(a.error.find(c.error) == 0);
  }
  // Not JSON, not POST, not an operation.
  CHECK(http_request(port, "POST", "/api/login", {{"Content-Type", "text/plain"}},
                     credentials_body("carol", "long enough"))
          .status
        == 415);
  auto get = http_request(port, "GET", "/api/login");
  CHECK(get.status == 405);
  CHECK(get.field("Allow") == "POST, OPTIONS");
  CHECK(http_request(port, "POST", "/api/nothing").status == 404);
  CHECK(api_post(port, "logout", "").status == 401);
  // The right password still works after all that (5 failures per name per minute allowed;
  // carol had 1).
  CHECK(api_post(port, "login", credentials_body("carol", "long enough")).status == 200);
}

TEST_CASE("forged, tampered, expired, wrong-kind and revoked tokens are refused at the upgrade") {
  token_key_file key, other;
  node_process node(key.node_args());
  auto port = node.port();
  auto now = unix_now_s();
  auto good = key.mint("erin", now, now + 600);
  auto dot1 = good.find('.'), dot2 = good.rfind('.');
  auto tampered = good.substr(0, dot1 + 1) + other.mint("mallory", now, now + 600).substr(dot1 + 1, dot2 - dot1 - 1)
                  + good.substr(dot2);
  struct { std::string name, token, error; } cases[] = {
    {"signed with another key", other.mint("erin", now, now + 600),
     "token signature does not verify"},
    {"payload swapped", tampered, "token signature does not verify"},
    {"expired", key.mint("erin", now - 700, now - 100), "token expired"},
    {"issued in the future", key.mint("erin", now + 3600, now + 7200), "token issued in the future"},
    {"a refresh token", key.mint("erin", now, now + 600, "refresh"), "wrong token type"},
    {"garbage", "not-a-token", "malformed token"},
    {"bad subject", key.mint("Erin", now, now + 600), "token subject is not a valid user name"},
  };
  for (auto& c : cases) {
    INFO(c.name);
    auto by_query = upgrade_answer(port, "/ws?token=" + c.token);
    CHECK(status_of(by_query) == 401);
    CHECK(error_of(by_query) == c.error);
    auto by_header = upgrade_answer(port, "/ws", bearer(c.token));
    CHECK(status_of(by_header) == 401);
    CHECK(error_of(by_header) == c.error);
  }
  // A token minted elsewhere with the shared key needs no account.
  ws_client erin(port, "token=" + good);
  CHECK(erin.hello().str("user") == "erin");
  CHECK(status_of(upgrade_answer(port, "/ws", "Authorization: Basic ZXJpbjpwdw==\r\n")) == 400);
}

TEST_CASE("logout revokes the user's tokens and closes their connections within 5 s") {
  token_key_file key;
  node_process node(key.node_args());
  auto port = node.port();
  auto reg = api_post(port, "register", credentials_body("frank", "frank's password"));
  REQUIRE(reg.status == 201);
  auto other = register_user(port, "grace", "grace's password");
  std::vector<std::unique_ptr<ws_client>> conns;
  for (int i = 0; i < 3; ++i)
    conns.push_back(std::make_unique<ws_client>(port, "token=" + reg.token));
  ws_client bystander(port, "token=" + other);

  auto t0 = std::chrono::steady_clock::now();
  auto out = api_post(port, "logout", "", {{"Authorization", "Bearer " + reg.token}});
  REQUIRE(out.status == 200);
  CHECK(out.body.find(R"("revoked":true)") != std::string::npos);
  CHECK(out.body.find(R"("closed":3)") != std::string::npos);
  for (auto& c : conns) {
    std::string reason;
    REQUIRE(c->closed_within(5s, &reason));
    CHECK(c->close_code() == 4002);
    CHECK(reason == "token revoked");
  }
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  // Other users stay; the old tokens are refused; a new login works.
  bystander.send(R"({"op":"ping"})");
  CHECK(bystander.next_op("pong").op() == "pong");
  auto refused = upgrade_answer(port, "/ws?token=" + reg.token);
  CHECK(status_of(refused) == 401);
  CHECK(error_of(refused) == "token revoked");
  auto refresh = api_post(port, "refresh", R"({"refresh_token":")" + reg.refresh_token + R"("})");
  CHECK(refresh.status == 401);
  CHECK(refresh.error == "token revoked");
  auto again = api_post(port, "login", credentials_body("frank", "frank's password"));
  REQUIRE(again.status == 200);
  ws_client back(port, "token=" + again.token);
  CHECK(back.hello().str("user") == "frank");
}

TEST_CASE("a refresh token gives a new pair; the access token is no refresh token") {
  token_key_file key;
  node_process node(key.node_args());
  auto port = node.port();
  auto reg = api_post(port, "register", credentials_body("heidi", "heidi's password"));
  REQUIRE(reg.status == 201);
  auto r = api_post(port, "refresh", R"({"refresh_token":")" + reg.refresh_token + R"("})");
  REQUIRE(r.status == 200);
  CHECK(r.user == "heidi");
  CHECK_FALSE(r.refresh_token.empty());
  ws_client c(port, "token=" + r.token);
  CHECK(c.hello().str("user") == "heidi");
  auto wrong = api_post(port, "refresh", R"({"refresh_token":")" + reg.token + R"("})");
  CHECK(wrong.status == 401);
  CHECK(wrong.error == "wrong token type");
}

TEST_CASE("a token that expires closes its connection with 4001 unless refreshed in-band") {
  token_key_file key;
  node_process node(key.node_args());
  auto port = node.port();
  auto now = unix_now_s();
  ws_client lapsing(port, "token=" + key.mint("ivan", now, now + 2));
  ws_client refreshed(port, "token=" + key.mint("ivan", now, now + 2));
  ws_client other(port, "token=" + key.mint("judy", now, now + 600));

  // In-band refresh: a token for another user or a bad one is refused, the connection stays.
  refreshed.send(R"({"op":"auth","token":")" + key.mint("judy", now, now + 600) + R"(","rid":1})");
  auto e = refreshed.next_op("error");
  CHECK(e.str("code") == "unauthorized");
  CHECK(e.str("message") == "the token names another user");
  refreshed.send(R"({"op":"auth","token":"junk","rid":2})");
  CHECK(refreshed.next_op("error").str("message") == "malformed token");
  refreshed.send(R"({"op":"auth","token":")" + key.mint("ivan", now, now + 600) + R"(","rid":3})");
  auto ok = refreshed.next_op("authed");
  CHECK(ok.u64("expires") == uint64_t(now + 600));

  std::string reason;
  REQUIRE(lapsing.closed_within(6s, &reason));
  CHECK(lapsing.close_code() == 4001);
  CHECK(reason == "token expired");
  // The refreshed one outlives its first token.
  std::this_thread::sleep_for(500ms);
  refreshed.send(R"({"op":"ping"})");
  CHECK(refreshed.next_op("pong").op() == "pong");
  other.send(R"({"op":"ping"})");
  CHECK(other.next_op("pong").op() == "pong");
}

TEST_CASE("net.allowed-origins: other origins get 403 at the upgrade and the API") {
  const std::string ws = "/ws?user=olga";
  SECTION("default (self): same-origin pages and programs only") {
    node_process node;
    auto evil = upgrade_answer(node.port(), ws, "Origin: http://evil.example\r\n");
    CHECK(status_of(evil) == 403);
    CHECK(error_of(evil) == "origin not allowed (net.allowed-origins)");
    CHECK(status_of(upgrade_answer(node.port(), ws, "Origin: http://127.0.0.1\r\n")) == 101);
    CHECK(status_of(upgrade_answer(node.port(), ws)) == 101);
  }
  SECTION("empty list: programs only, no browser page") {
    node_process node({"--net.allowed-origins="});
    CHECK(status_of(upgrade_answer(node.port(), ws, "Origin: http://127.0.0.1\r\n")) == 403);
    CHECK(status_of(upgrade_answer(node.port(), ws, "Origin: http://evil.example\r\n")) == 403);
    CHECK(status_of(upgrade_answer(node.port(), ws)) == 101);
  }
  SECTION("a listed origin passes, others do not") {
    token_key_file key;
    auto args = key.node_args();
    args.push_back("--net.allowed-origins=https://chat.example.com");
    node_process node(args);
    auto token = register_user(node.port(), "olga", "olga's password");
    CHECK(status_of(upgrade_answer(node.port(), "/ws?token=" + token,
                                   "Origin: https://chat.example.com\r\n"))
          == 101);
    CHECK(status_of(upgrade_answer(node.port(), "/ws?token=" + token,
                                   "Origin: https://chat.example.com.evil.example\r\n"))
          == 403);
    auto refused = api_post(node.port(), "login", credentials_body("olga", "olga's password"),
                            {{"Origin", "https://evil.example"}});
    CHECK(refused.status == 403);
    CHECK(api_post(node.port(), "login", credentials_body("olga", "olga's password"),
                   {{"Origin", "https://chat.example.com"}})
            .status
          == 200);
  }
}
