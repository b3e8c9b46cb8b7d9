// End-to-end: a node that runs out of descriptors (RLIMIT_NOFILE reached) refuses new
// connections cleanly instead of spinning on accept(2): clients waiting to be accepted are
// closed, the node burns next to no CPU while saturated, counts and logs (rate-limited) the
// failures, and accepts again as soon as descriptors are free.
#include "support/http_get.hpp"
#include "support/node_process.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace chat::test;
using namespace std::chrono_literals;

namespace {

int connect_raw(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // The kernel completes the handshake from the listen backlog, accepted or not.
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

enum class outcome { served, refused, no_answer };

// Asks GET /healthz on a keep-alive connection: answered, closed by the node, or neither.
outcome probe(int fd, std::chrono::milliseconds timeout) {
  const std::string req = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size()))
    return outcome::refused;
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, int(timeout.count())) <= 0)
    return outcome::no_answer;
  char buf[512];
  auto n = ::recv(fd, buf, sizeof buf, 0);
  if (n > 0 && std::string(buf, size_t(n)).rfind("HTTP/1.1 200", 0) == 0)
    return outcome::served;
  return outcome::refused; // 0 (FIN) or ECONNRESET
}

// User + system CPU time of a process, in seconds (/proc/PID/stat fields 14 and 15).
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto after_name = text.rfind(')');
  REQUIRE(after_name != std::string::npos);
  std::istringstream fields(text.substr(after_name + 2));
  std::string skip;
  for (int i = 3; i <= 13; ++i)
    fields >> skip;
  unsigned long long utime = 0, stime = 0;
  fields >> utime >> stime;
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

double metric(const std::string& text, const std::string& series) {
  auto pos = text.find("\n" + series + " ");
  REQUIRE(pos != std::string::npos);
  return std::stod(text.substr(pos + series.size() + 2));
}

size_t count_lines(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE("out of descriptors, the node refuses cleanly, stays idle and recovers") {
  // 64 descriptors: a few dozen connections after what the node itself holds.
  node_process node({"--storage.backend=memory", "--net.http-timeout=60s"}, "", 64);
  auto started = std::chrono::steady_clock::now();

  // Fill: keep-alive HTTP connections until the node cannot accept one more.
  std::vector<int> held;
  outcome last = outcome::served;
  while (held.size() < 100) {
    int fd = connect_raw(node.port());
    last = probe(fd, 5s);
    if (last != outcome::served) {
      ::close(fd);
      break;
    }
    held.push_back(fd);
  }
  INFO("connections held: " << held.size());
  REQUIRE(held.size() >= 20);
  REQUIRE(held.size() < 64);
  CHECK(last == outcome::refused); // closed at once, not left hanging

  // Saturated for 2 s while clients keep knocking: each is refused, and the node idles.
  double cpu_before = cpu_seconds(node.pid());
  auto until = std::chrono::steady_clock::now() + 2s;
  int refused = 0, other = 0;
  while (std::chrono::steady_clock::now() < until) {
    int fd = connect_raw(node.port());
    (probe(fd, 2s) == outcome::refused ? refused : other)++;
    ::close(fd);
    std::this_thread::sleep_for(20ms);
  }
  double cpu_used = cpu_seconds(node.pid()) - cpu_before;
  INFO("CPU seconds used while saturated: " << cpu_used << ", refused " << refused);
  CHECK(refused >= 5);
  CHECK(other == 0);
  CHECK(cpu_used < 0.25); // a retry loop on EMFILE burns a full core: ~2 s here

  // Free some descriptors: new connections are served again.
  for (int i = 0; i < 5; ++i) {
    ::close(held.back());
    held.pop_back();
  }
  bool served = false;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!served && std::chrono::steady_clock::now() < deadline) {
    int fd = connect_raw(node.port());
    served = probe(fd, 2s) == outcome::served;
    ::close(fd);
    if (!served)
      std::this_thread::sleep_for(50ms);
  }
  CHECK(served);

  auto metrics = http_get(node.admin_port(), "/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metric(metrics.body, "chat_accept_errors_total{listener=\"client\",reason=\"emfile\"}")
        >= 1);
  CHECK(metric(metrics.body, "chat_accept_shed_total{listener=\"client\"}") >= refused + 1);
  for (int fd : held)
    ::close(fd);

  // One warning line per second at most, however many accepts failed.
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  auto warnings = count_lines(node.stderr_text(), "client listener: accept failed");
  CHECK(warnings >= 1);
  CHECK(double(warnings) <= seconds + 2);
}
