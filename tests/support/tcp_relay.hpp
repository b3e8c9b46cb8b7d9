// A TCP relay for tests: accepts on its own loopback port and forwards each connection to a
// target port, both ways, on one thread. With drop_replies(true) it discards what the server
// sends on the connections whose client has sent `marker` (e.g. "EVALSHA"): the commands
// still reach the server and run, their replies never arrive — a lost reply on demand.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

namespace chat::test {

class tcp_relay {
public:
  tcp_relay(uint16_t target, std::string marker);
  ~tcp_relay();
  tcp_relay(const tcp_relay&) = delete;
  tcp_relay& operator=(const tcp_relay&) = delete;

  uint16_t port() const { return port_; }
  void drop_replies(bool on) { dropping_.store(on); }
  // Bytes discarded so far (the test checks that a reply really was lost).
  size_t dropped_bytes() const { return dropped_.load(); }

private:
  void run();

  uint16_t target_;
  std::string marker_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false}, dropping_{false};
  std::atomic<size_t> dropped_{0};
  std::thread thread_;
};

} // namespace chat::test
