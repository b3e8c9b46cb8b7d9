// End-to-end: tools/sio-echo (the conformance server for the Engine.IO / Socket.IO
// reference test suites) driven by the official socket.io-client and engine.io-client
// (tests/sio/echo_driver.mjs): default transports with the upgrade, websocket only,
// polling only, the auth echo, message-back and message-with-ack with binary attachments,
// /custom, /other refused, the exact handshake shapes, and the raw Engine.IO echo.
// Skipped (exit 77) only when there is no `node`.
#include "support/node_script.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

struct skip_without_node {
  skip_without_node() { chat::test::require_node_or_skip(); }
} const check_node;

// sio-echo on a free port (--port 0), stopped with SIGTERM when the test ends.
class echo_server {
public:
  echo_server() {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      ::execl(SIO_ECHO_BINARY, SIO_ECHO_BINARY, "--port", "0", static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    ::close(out[1]);
    auto said = read_first_line(out[0]);
    ::close(out[0]);
    const std::string prefix = "listening port=";
    if (said.rfind(prefix, 0) == 0)
      port_ = uint16_t(std::atoi(said.c_str() + prefix.size()));
    if (port_ == 0) {
      stop(); // the destructor does not run when the constructor fails
      FAIL("sio-echo did not say where it listens; it wrote: " << said);
    }
  }
  ~echo_server() { stop(); }
  uint16_t port() const { return port_; }
  // Whether the server is still running (it must survive every client).
  bool running() {
    if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) != 0)
      pid_ = -1;
    return pid_ > 0;
  }

private:
  void stop() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // What the server writes to stdout until its first newline (up to 20 s).
  static std::string read_first_line(int fd) {
    std::string text;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (text.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0)
        continue;
      char buf[256];
      auto n = ::read(fd, buf, sizeof(buf));
      if (n <= 0)
        break;
      text.append(buf, size_t(n));
    }
    return text;
  }

  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

} // namespace

TEST_CASE("sio-echo behaves as the reference test suites expect") {
  echo_server server;
  auto r = chat::test::run_script("cd '" + chat::test::sio_dir()
                                  + "' && node echo_driver.mjs --url http://127.0.0.1:"
                                  + std::to_string(server.port()) + " 2>&1");
  const auto& output = r.output;
  std::cout << output;
  INFO(output);
  CHECK(r.status == 0);
  for (auto name : {"default-transports", "websocket-only", "polling-only", "custom-namespace",
                    "other-namespace-refused", "handshake-shape", "engineio-echo"})
    CHECK(output.find(std::string("ok ") + name + "\n") != std::string::npos);
  CHECK(output.find("FAIL") == std::string::npos);
  CHECK(server.running());
}
