// Raw TCP test client (see raw_socket.hpp).
#include "support/raw_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace chat::test {

namespace {

// The reason of the last OpenSSL failure, for an exception's text.
std::string ssl_reason() {
  char text[256] = "unknown";
  if (auto e = ERR_get_error())
    ERR_error_string_n(e, text, sizeof text);
  return text;
}

} // namespace

raw_socket::raw_socket(uint16_t port, ssl_ctx_st* tls) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0)
    throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    throw std::runtime_error("connect() failed");
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (tls) {
    // Bounds the blocking handshake; reads after it wait in poll() first.
    timeval limit{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    ssl_ = SSL_new(tls);
    if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1
        || X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1") != 1
        || SSL_connect(ssl_) != 1) {
      auto why = ssl_reason();
      close();
      throw std::runtime_error("TLS handshake failed: " + why);
    }
  }
}

raw_socket::~raw_socket() {
  close();
}

void raw_socket::close() {
  if (ssl_)
    SSL_free(ssl_);
  ssl_ = nullptr;
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

bool raw_socket::send(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    auto n = ssl_ ? SSL_write(ssl_, bytes.data() + sent, int(bytes.size() - sent))
                  : ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    sent += size_t(n);
  }
  return true;
}

bool raw_socket::read_more(std::string& into, std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now());
  pollfd p{fd_, POLLIN, 0};
  bool buffered = ssl_ && SSL_pending(ssl_) > 0; // decrypted bytes poll() cannot see
  if (!buffered && (left.count() <= 0 || ::poll(&p, 1, int(left.count())) <= 0))
    return false;
  char buf[16384];
  auto n = ssl_ ? SSL_read(ssl_, buf, int(sizeof buf)) : ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    peer_closed_ = true; // FIN or reset
    return false;
  }
  into.append(buf, size_t(n));
  return true;
}

std::string raw_socket::receive(ms timeout) {
  std::string out;
  out.swap(pending_);
  if (out.empty())
    read_more(out, std::chrono::steady_clock::now() + timeout);
  return out;
}

bool raw_socket::read_until_closed(ms timeout, std::string* out) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string got;
  got.swap(pending_);
  while (read_more(got, deadline)) {
  }
  if (out)
    *out = got;
  return peer_closed_;
}

std::string raw_socket::read_response(ms timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string got;
  got.swap(pending_);
  for (;;) {
    auto head_end = got.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      size_t body = 0;
      auto cl = got.find("Content-Length: ");
      if (cl != std::string::npos && cl < head_end)
        body = std::stoul(got.substr(cl + 16));
      size_t total = head_end + 4 + body;
      if (got.size() >= total) {
        pending_ = got.substr(total);
        return got.substr(0, total);
      }
    }
    if (!read_more(got, deadline))
      return {};
  }
}

int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12)
    return 0;
  return std::atoi(response.substr(9, 3).c_str());
}

} // namespace chat::test
