// The test relay (see tcp_relay.hpp): poll() over the listener and every connection pair.
#include "support/tcp_relay.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace chat::test {

namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Writes all of `n` bytes (test volumes: blocking is fine); false when the peer is gone.
bool send_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    auto w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0)
      return false;
    p += w;
    n -= size_t(w);
  }
  return true;
}

struct pair {
  int client = -1, server = -1;
  bool marked = false; // the client sent the marker
};

} // namespace

tcp_relay::tcp_relay(uint16_t target, std::string marker)
  : target_(target), marker_(std::move(marker)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  auto a = loopback(0);
  socklen_t len = sizeof(a);
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0
      || ::listen(listener_, 16) != 0
      || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("tcp_relay: cannot listen");
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { run(); });
}

tcp_relay::~tcp_relay() {
  stop_.store(true);
  thread_.join();
  ::close(listener_);
}

void tcp_relay::run() {
  std::vector<pair> pairs;
  std::vector<char> buf(64 * 1024);
  auto close_pair = [](pair& p) {
    ::close(p.client);
    ::close(p.server);
    p.client = p.server = -1;
  };
  while (!stop_.load()) {
    std::vector<pollfd> fds{{listener_, POLLIN, 0}};
    for (auto& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.server, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 50) <= 0)
      continue;
    for (size_t i = 0; i < pairs.size(); ++i) {
      auto& p = pairs[i];
      for (int side = 0; side < 2 && p.client >= 0; ++side) {
        if ((fds[1 + 2 * i + size_t(side)].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
          continue;
        int from = side == 0 ? p.client : p.server, to = side == 0 ? p.server : p.client;
        auto n = ::recv(from, buf.data(), buf.size(), 0);
        if (n <= 0) {
          close_pair(p);
          break;
        }
        if (side == 0 && std::string_view(buf.data(), size_t(n)).find(marker_) != std::string::npos)
          p.marked = true;
        if (side == 1 && p.marked && dropping_.load()) {
          dropped_ += size_t(n);
          continue;
        }
        if (!send_all(to, buf.data(), size_t(n)))
          close_pair(p);
      }
    }
    pairs.erase(std::remove_if(pairs.begin(), pairs.end(), [](const pair& p) { return p.client < 0; }),
                pairs.end());
    if (fds[0].revents & POLLIN) {
      int c = ::accept(listener_, nullptr, nullptr);
      if (c < 0)
        continue;
      int s = ::socket(AF_INET, SOCK_STREAM, 0);
      auto a = loopback(target_);
      if (s < 0 || ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
        ::close(c);
        if (s >= 0)
          ::close(s);
        continue;
      }
      int one = 1;
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      pairs.push_back({c, s, false});
    }
  }
  for (auto& p : pairs)
    if (p.client >= 0)
      close_pair(p);
}

} // namespace chat::test
