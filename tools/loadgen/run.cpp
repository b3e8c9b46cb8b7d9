// The phases of a run: connect and join everything, then warm-up, measurement and drain
// with a status line per second (or, with --idle, just hold), then close and summarize.
#include "run.hpp"

#include <chrono>
#include <iostream>
#include <stdexcept>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "fleet.hpp"
#include "report.hpp"
#include "schedule.hpp"

namespace chat::loadgen {

namespace {

using tcp = boost::asio::ip::tcp;
constexpr int64_t second_ns = 1'000'000'000;

std::vector<tcp::endpoint> resolve(const options& o) {
  boost::asio::io_context io;
  tcp::resolver resolver{io};
  std::vector<tcp::endpoint> endpoints;
  for (uint16_t port : o.ports) {
    boost::system::error_code ec;
    auto results = resolver.resolve(o.host, std::to_string(port), ec);
    if (ec || results.empty())
      throw std::runtime_error("cannot resolve " + o.host + ": " +
                               (ec ? ec.message() : std::string("no address")));
    endpoints.push_back(results.begin()->endpoint());
  }
  return endpoints;
}

void sleep_until_ns(int64_t t) {
  std::this_thread::sleep_until(
      std::chrono::steady_clock::time_point(std::chrono::nanoseconds(t)));
}

// Waits until every connection joined its room; false when one failed.
bool wait_joined(fleet& f, progress& status) {
  const std::size_t n = f.opts().conns;
  const int64_t began = now_ns();
  int64_t next_line = began + second_ns;
  while (f.failure().empty() && f.joined() < n) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (now_ns() >= next_line) {
      status.show("connecting: " + std::to_string(f.joined()) + " of " + std::to_string(n) +
                  " joined");
      next_line += second_ns;
    }
  }
  status.done();
  return f.failure().empty();
}

void close_everything(fleet& f) {
  f.close_all();
  const int64_t give_up = now_ns() + 3 * second_ns;
  while (f.closed() < f.opts().conns && now_ns() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  f.stop();
}

const char* phase_at(const schedule& s, int64_t t) {
  if (t <= s.measure_begin)
    return "warmup";
  if (t <= s.measure_end)
    return "measure";
  return "drain";
}

int run_idle(fleet& f, progress& status) {
  const options& o = f.opts();
  std::cout << "connected " << f.joined() << std::endl;
  const int64_t began = now_ns();
  const int64_t end = began + static_cast<int64_t>(o.duration * 1e9);
  for (int64_t t = began + second_ns;; t += second_ns) {
    const int64_t at = std::min(t, end);
    sleep_until_ns(at);
    const totals now = f.collect();
    status.show("idle " + std::to_string((at - began) / second_ns) + "s: " +
                std::to_string(o.conns) + " connections, disconnects " +
                std::to_string(now.disconnects));
    if (at == end)
      break;
  }
  status.done();
  close_everything(f);
  const totals t = f.collect();
  idle_summary s;
  s.joined = f.joined();
  s.held_s = o.duration;
  s.disconnects = t.disconnects;
  s.errors = t.errors;
  print_text(o.json ? std::cerr : std::cout, o, s);
  if (o.json)
    print_json(std::cout, o, s);
  return 0;
}

int run_load(fleet& f, progress& status) {
  const options& o = f.opts();
  schedule s;
  s.start = now_ns() + 100'000'000; // lets every I/O thread install the schedule first
  s.measure_begin = s.start + static_cast<int64_t>(o.warmup * 1e9);
  s.measure_end = s.measure_begin + static_cast<int64_t>(o.duration * 1e9);
  s.drain_end = s.measure_end + static_cast<int64_t>(o.drain * 1e9);
  s.period_ns = 1e9 / o.rate;
  s.senders = o.senders;
  f.start_sending(s);

  totals before = f.collect();
  int64_t last = s.start;
  for (int64_t t = s.start + second_ns;; t += second_ns) {
    const int64_t at = std::min(t, s.drain_end);
    sleep_until_ns(at);
    totals now = f.collect();
    status.show(second_line(static_cast<double>(at - s.start) / 1e9, phase_at(s, at), now, before,
                            static_cast<double>(at - last) / 1e9));
    before = std::move(now);
    last = at;
    if (at == s.drain_end)
      break;
  }
  status.done();
  close_everything(f);

  const load_summary summary = summarize(o, f.collect());
  print_text(o.json ? std::cerr : std::cout, o, summary);
  if (o.json)
    print_json(std::cout, o, summary);
  return 0;
}

} // namespace

int run(const options& o) {
  fleet f{o, resolve(o)};
  progress status;
  f.start();
  if (!wait_joined(f, status)) {
    const std::size_t joined = f.joined();
    f.stop();
    std::cerr << "chat-loadgen: connection setup failed (" << joined << " of " << o.conns
              << " joined): " << f.failure() << "\n";
    return 1;
  }
  return o.idle ? run_idle(f, status) : run_load(f, status);
}

} // namespace chat::loadgen
