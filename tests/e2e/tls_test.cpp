// End-to-end: the client listener speaking TLS (net.tls-cert, net.tls-key) with a
// certificate the fixture makes with `openssl req`: a wss client that verifies it joins,
// sends and gets its ack and the message; HTTPS account registration and a Socket.IO
// long-polling handshake; a plaintext client
// refused at the handshake (counted) without hurting the node; the admin port still
// plaintext; a client that never starts its handshake dropped after net.http-timeout; a key
// that does not match the certificate refused at start with one line.
#include "support/auth_client.hpp"
#include "support/eventually.hpp"
#include "support/http_get.hpp"
#include "support/node_probes.hpp"
#include "support/node_process.hpp"
#include "support/raw_socket.hpp"
#include "support/tls_client.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> tls_args(const token_key_file& key, const self_signed_cert& cert) {
  auto args = key.node_args();
  args.push_back("--net.tls-cert=" + cert.cert);
  args.push_back("--net.tls-key=" + cert.key);
  return args;
}

// The lines of `text` that mention `needle`.
std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> found;
  size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos)
      end = text.size();
    auto line = text.substr(start, end - start);
    if (line.find(needle) != std::string::npos)
      found.push_back(line);
    start = end + 1;
  }
  return found;
}

} // namespace

TEST_CASE("wss and https on the client listener; plaintext refused at the handshake") {
  token_key_file key;
  self_signed_cert cert;
  node_process node(tls_args(key, cert));
  auto tls = trusting(cert.cert);

  auto reg = https_post(node.port(), *tls, "/api/register", credentials_body("alice", "correct horse"));
  REQUIRE(reg.status == 201);
  auto login = https_post(node.port(), *tls, "/api/login", credentials_body("alice", "correct horse"));
  REQUIRE(login.status == 200);
  auto at = login.body.find("\"token\":\"");
  REQUIRE(at != std::string::npos);
  auto access = login.body.substr(at + 9, login.body.find('"', at + 9) - at - 9);

  wss_client alice(node.port(), "token=" + access, *tls);
  CHECK(alice.hello().str("user") == "alice");
  alice.send(join_frame("lobby"));
  alice.next_op("joined");
  alice.send(send_frame("lobby", "over tls", "c1"));
  // The sender gets its ack and the message itself, in either order.
  frame ack, msg;
  while (!ack.doc || !msg.doc) {
    auto f = alice.next();
    if (f.op() == "ack" || f.op() == "msg")
      (f.op() == "ack" ? ack : msg) = f;
  }
  CHECK(ack.str("cid") == "c1");
  CHECK(ack.u64("seq") == 1);
  CHECK(msg.str("text") == "over tls");
  CHECK(msg.str("from") == "alice");

  // Socket.IO's long-polling handshake over HTTPS (its WebSocket shares the wss path above).
  auto sio = https_get(node.port(), *tls, "/socket.io/?EIO=4&transport=polling");
  CHECK(sio.status == 200);
  CHECK(sio.body.rfind("0{\"sid\":", 0) == 0);

  // Plain HTTP to the TLS port: no HTTP answer, the connection ends, the failure is counted.
  {
    raw_socket plain(node.port());
    REQUIRE(plain.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string got;
    CHECK(plain.read_until_closed(10s, &got));
    CHECK(got.rfind("HTTP/", 0) == std::string::npos);
  }
  CHECK(metric(node.admin_port(), "chat_tls_handshake_failures_total{listener=\"client\"}") >= 1);

  // The node and the TLS session carry on.
  alice.send(send_frame("lobby", "still here", "c2"));
  CHECK(alice.next_op("ack").str("cid") == "c2");
  wss_client again(node.port(), "token=" + access, *tls);
  CHECK(again.hello().str("user") == "alice");
  CHECK(node.running());
}

TEST_CASE("a TLS handshake that never completes is dropped after net.http-timeout") {
  token_key_file key;
  self_signed_cert cert;
  auto args = tls_args(key, cert);
  args.push_back("--net.http-timeout=1s");
  node_process node(args);
  auto before = metric(node.admin_port(), "chat_tls_handshake_failures_total{listener=\"client\"}");

  // Connected, silent: no ClientHello. A second one sends half a record header.
  raw_socket silent(node.port());
  raw_socket partial(node.port());
  REQUIRE(partial.send(std::string("\x16\x03", 2)));
  auto start = std::chrono::steady_clock::now();
  CHECK(silent.read_until_closed(5s));
  CHECK(partial.read_until_closed(5s));
  auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= 500ms);
  CHECK(waited < 4s);
  // The node may count a failure just after it closes the socket: wait for both counts.
  CHECK(chat::test::eventually([&] {
    return metric(node.admin_port(), "chat_tls_handshake_failures_total{listener=\"client\"}")
           >= before + 2;
  }, 5s));

  // Meanwhile and afterwards, a real client is served.
  auto tls = trusting(cert.cert);
  auto reg = https_post(node.port(), *tls, "/api/register", credentials_body("bob", "correct horse"));
  CHECK(reg.status == 201);
}

TEST_CASE("a key that does not match the certificate, or a missing file, refuses to start") {
  token_key_file key;
  self_signed_cert one, other;
  std::string out;
  auto args = key.node_args();
  args.push_back("--net.port=0");
  args.push_back("--admin.port=0");
  args.push_back("--storage.backend=memory");
  auto mismatched = args;
  mismatched.push_back("--net.tls-cert=" + one.cert);
  mismatched.push_back("--net.tls-key=" + other.key);
  CHECK(run_chatd(mismatched, out) != 0);
  auto lines = lines_with(out, "net.tls-key");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("does not match") != std::string::npos);

  auto missing = args;
  missing.push_back("--net.tls-cert=" + one.dir + "/none.pem");
  missing.push_back("--net.tls-key=" + one.key);
  CHECK(run_chatd(missing, out) != 0);
  lines = lines_with(out, "net.tls-cert");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("none.pem") != std::string::npos);
}
