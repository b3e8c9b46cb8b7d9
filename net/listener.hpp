// One listening socket (Beast chat-multi's listener): accepts connections and hands each,
// on the network thread chosen for it, to what serves it (an HTTP session).
// Out of descriptors (EMFILE, ENFILE) it does not retry at once: it closes a spare
// descriptor to accept and close what is waiting (those clients get a clean close instead
// of hanging), then pauses accepting for a while; out of memory (ENOBUFS, ENOMEM) it
// pauses. Every failure is counted and logged (rate-limited).
#pragma once

#include "net/boundary_counters.hpp"
#include "net/io_pool.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

namespace chat::net {

class listener {
public:
  using pick_worker = std::function<io_worker&()>;
  using accepted_fn = std::function<void(asio::ip::tcp::socket, io_worker&)>;

  // `home` runs the acceptor; `pick` chooses the thread of each accepted connection.
  listener(std::string name, io_worker& home, pick_worker pick, accepted_fn accepted,
           listener_counters& counters);
  ~listener();
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

  // Binds and listens; throws std::runtime_error naming `section`.host/port on failure.
  asio::ip::tcp::endpoint bind(const std::string& host, uint16_t port, const std::string& section);
  // Starts accepting (before `home` runs, or on its thread).
  void start();
  // Any thread: stops accepting.
  void stop();

  // How long accepting pauses after running out of descriptors or memory.
  static constexpr std::chrono::milliseconds accept_pause{100};

private:
  void accept();
  void on_accept(boost::system::error_code ec, asio::ip::tcp::socket sock, io_worker& worker);
  // Accepts and closes waiting connections with the spare descriptor; returns how many.
  uint64_t shed_waiting();
  void reserve_spare();

  std::string name_;
  io_worker& home_;
  pick_worker pick_;
  accepted_fn accepted_;
  listener_counters& counters_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer pause_timer_;
  int spare_fd_ = -1;
  std::atomic<bool> stopped_{false};
};

} // namespace chat::net
