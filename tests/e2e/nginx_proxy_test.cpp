// End-to-end: deploy/nginx.conf, as shipped but for addresses and the listen port, in a
// real nginx in front of two chatd nodes (separate nodes without Redis: each client's
// rooms live on the node it reached). socket.io-client (tests/sio/driver.mjs) connects
// through it from 8 client addresses on polling, upgrade and WebSocket, and a native
// client on /ws. It proves the proxy configuration: sticky routing of every Engine.IO
// polling request to the node holding its session (a round-robin proxy fails the
// scenario), WebSocket upgrade headers for both endpoints, unbuffered long polls, and
// that both nodes serve. Cross-node rooms need Redis and are not what this tests. Skipped
// (exit 77) when nginx or node is missing (scripts/setup.sh installs both).
#include "support/node_process.hpp"
#include "support/node_script.hpp"

#include <catch2/catch.hpp>

#include <boost/asio.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace chat::test;

namespace {

const std::string source_dir = CHAT_SOURCE_DIR;

struct skip_without_tools {
  skip_without_tools() {
    for (const char* tool : {"nginx", "node"}) {
      std::string cmd = std::string("command -v ") + tool + " >/dev/null 2>&1";
      if (std::system(cmd.c_str()) != 0) {
        std::cout << "SKIPPED: no `" << tool << "` (scripts/setup.sh installs it)\n";
        std::exit(77);
      }
    }
  }
} const check_tools;

uint16_t free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  size_t n = 0;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
    ++n;
  }
  REQUIRE(n > 0); // the shipped file still has what the test replaces
}

// nginx with deploy/nginx.conf in a temporary prefix, in the foreground (its own process).
class nginx_process {
public:
  nginx_process(uint16_t listen, uint16_t node_a, uint16_t node_b) : dir_(make_temp_dir()) {
    auto site = read_file(source_dir + "/deploy/nginx.conf");
    replace_all(site, "127.0.0.1:8080", "127.0.0.1:" + std::to_string(node_a));
    replace_all(site, "127.0.0.1:8081", "127.0.0.1:" + std::to_string(node_b));
    replace_all(site, "listen 80;", "listen 127.0.0.1:" + std::to_string(listen) + ";");
    std::ofstream(dir_ + "/chat.conf") << site;
    std::ofstream(dir_ + "/nginx.conf")
      << (::getuid() == 0 ? "user root;\n" : "") << "daemon off;\nworker_processes 1;\n"
      << "pid " << dir_ << "/nginx.pid;\nerror_log " << dir_ << "/error.log warn;\n"
      << "events { worker_connections 1024; }\nhttp {\n  access_log off;\n"
      << "  client_body_temp_path " << dir_ << "/body;\n  proxy_temp_path " << dir_
      << "/proxy;\n  fastcgi_temp_path " << dir_ << "/fastcgi;\n  uwsgi_temp_path " << dir_
      << "/uwsgi;\n  scgi_temp_path " << dir_ << "/scgi;\n  include " << dir_
      << "/chat.conf;\n}\n";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execlp("nginx", "nginx", "-p", dir_.c_str(), "-c", (dir_ + "/nginx.conf").c_str(),
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    REQUIRE(pid_ > 0);
    // Ready when it accepts connections (bounded wait).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket s(io);
      boost::system::error_code ec;
      s.connect({boost::asio::ip::make_address("127.0.0.1"), listen}, ec);
      if (!ec)
        break;
      int status;
      INFO(read_file(dir_ + "/error.log"));
      REQUIRE(::waitpid(pid_, &status, WNOHANG) == 0); // nginx did not exit
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~nginx_process() {
    ::kill(pid_, SIGTERM);
    int status;
    ::waitpid(pid_, &status, 0);
  }
  std::string error_log() const { return read_file(dir_ + "/error.log"); }

private:
  std::string dir_;
  pid_t pid_ = -1;
};

} // namespace

TEST_CASE("deploy/nginx.conf: socket.io and native clients chat through nginx to two nodes") {
  node_process a({"--security.allow-anonymous=true", "--chat.node=node-a"});
  node_process b({"--security.allow-anonymous=true", "--chat.node=node-b"});
  auto port = free_port();
  nginx_process proxy(port, a.port(), b.port());
  std::string cmd = "cd '" + source_dir + "/tests/sio' && node driver.mjs --url http://127.0.0.1:"
                    + std::to_string(port)
                    + " --scenario proxy-spread,default-upgrade,websocket-only,polling-only,order"
                      " 2>&1";
  auto r = run_script(cmd);
  const auto& output = r.output;
  std::cout << output;
  INFO(output);
  INFO("nginx error.log:\n" << proxy.error_log());
  CHECK(r.status == 0);
  CHECK(output.find("ok proxy-spread") != std::string::npos);
  CHECK(output.find("FAIL") == std::string::npos);
}
