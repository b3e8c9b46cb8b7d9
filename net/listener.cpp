// Accept loop with back-off on resource exhaustion (see listener.hpp).
#include "net/listener.hpp"

#include "config/log.hpp"

#include <boost/asio/post.hpp>

#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace chat::net {

using tcp = asio::ip::tcp;

namespace {

// Waiting connections closed per shedding round; the rest wait for the next round.
constexpr int max_shed_per_round = 256;

enum class next_step { retry, pause };

// What a failed accept says, and whether retrying at once can help (the failures accept(2)
// reports for one aborted connection) or would only spin.
std::pair<accept_error, next_step> classify(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category())
    return {accept_error::other, next_step::pause};
  switch (ec.value()) {
  case EMFILE:
    return {accept_error::emfile, next_step::pause};
  case ENFILE:
    return {accept_error::enfile, next_step::pause};
  case ENOBUFS:
    return {accept_error::enobufs, next_step::pause};
  case ENOMEM:
    return {accept_error::enomem, next_step::pause};
  case ECONNABORTED:
  case EPROTO:
  case EPERM:
  case EINTR:
  case ENETDOWN:
  case ENOPROTOOPT:
  case EHOSTDOWN:
  case ENONET:
  case EHOSTUNREACH:
  case EOPNOTSUPP:
  case ENETUNREACH:
    return {accept_error::other, next_step::retry};
  default:
    return {accept_error::other, next_step::pause};
  }
}

} // namespace

listener::listener(std::string name, io_worker& home, pick_worker pick, accepted_fn accepted,
                   listener_counters& counters)
  : name_(std::move(name)),
    home_(home),
    pick_(std::move(pick)),
    accepted_(std::move(accepted)),
    counters_(counters),
    acceptor_(home.context()),
    pause_timer_(home.context()) {
  reserve_spare();
}

listener::~listener() {
  if (spare_fd_ >= 0)
    ::close(spare_fd_);
}

void listener::reserve_spare() {
  if (spare_fd_ < 0)
    spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

tcp::endpoint listener::bind(const std::string& host, uint16_t port, const std::string& section) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec)
    throw std::runtime_error(section + ".host: not an IP address: '" + host + "'");
  tcp::endpoint ep(addr, port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + section + " " + host + ":"
                             + std::to_string(port) + ": " + ec.message());
  acceptor_.listen(asio::socket_base::max_listen_connections);
  acceptor_.native_non_blocking(true); // shed_waiting accepts on it directly
  return acceptor_.local_endpoint();
}

void listener::start() {
  accept();
}

void listener::stop() {
  stopped_ = true;
  asio::post(home_.context(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    pause_timer_.cancel();
  });
}

void listener::accept() {
  if (stopped_)
    return;
  auto& worker = pick_();
  acceptor_.async_accept(worker.context(),
                         [this, &worker](boost::system::error_code ec, tcp::socket sock) {
                           on_accept(ec, std::move(sock), worker);
                         });
}

void listener::on_accept(boost::system::error_code ec, tcp::socket sock, io_worker& worker) {
  if (stopped_ || ec == asio::error::operation_aborted)
    return;
  if (!ec) {
    boost::system::error_code nodelay_ec;
    sock.set_option(tcp::no_delay(true), nodelay_ec);
    if (nodelay_ec)
      CHAT_LOG_LIMITED(spdlog::level::debug, "{} listener: TCP_NODELAY: {}", name_,
                       nodelay_ec.message());
    accepted_(std::move(sock), worker);
    accept();
    return;
  }
  auto [reason, step] = classify(ec);
  counters_.count(reason);
  uint64_t shed = 0;
  if (reason == accept_error::emfile || reason == accept_error::enfile)
    shed = shed_waiting();
  CHAT_LOG_LIMITED(spdlog::level::warn, "{} listener: accept failed: {}{}{}", name_,
                   ec.message(), shed ? "; closed waiting connections: " + std::to_string(shed) : "",
                   step == next_step::pause ? "; pausing accepts" : "");
  if (step == next_step::retry) {
    accept();
    return;
  }
  pause_timer_.expires_after(accept_pause);
  pause_timer_.async_wait([this](boost::system::error_code wait_ec) {
    if (!wait_ec)
      accept();
  });
}

uint64_t listener::shed_waiting() {
  reserve_spare(); // a previous round may have lost it to another thread
  if (spare_fd_ < 0)
    return 0;
  ::close(spare_fd_);
  spare_fd_ = -1;
  uint64_t shed = 0;
  for (int i = 0; i < max_shed_per_round; ++i) {
    int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR)
        continue;
      break; // none waiting (EAGAIN), or the freed slot went elsewhere
    }
    ::close(fd);
    ++shed;
  }
  reserve_spare();
  counters_.shed.fetch_add(shed, std::memory_order_relaxed);
  return shed;
}

} // namespace chat::net
