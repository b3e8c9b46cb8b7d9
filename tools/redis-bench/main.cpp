// chat-redis-bench: what sequencing through Redis costs. Runs the room sequencing script
// (INCR-like counter, XADD to the capped stream, cid dedupe, PUBLISH) for N messages in
// rounds of B concurrent calls — B = 1 is one Redis round trip per message, larger B
// pipelines B scripts per round trip — and reports messages/s, the time per round trip,
// and the CPU that redis-server (INFO cpu) and this client spent per 1,000 messages.
// One subscriber receives every published message, as one other node would.
// --no-cid skips the dedupe part of the script, to see what it costs.
//
//   build/tools/chat-redis-bench --uri redis://127.0.0.1:6379 --messages 20000 --batch 1,10,100
#include "net/redis/client.hpp"
#include "net/redis/room_log.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>
#include <sstream>
#include <sys/resource.h>

using namespace chat::redis;
using clock_type = std::chrono::steady_clock;

namespace {

double process_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec)
         + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// used_cpu_sys + used_cpu_user of redis-server, from INFO cpu.
double server_cpu_s(client& rc) {
  std::promise<double> p;
  rc.command("", {"INFO", "cpu"}, [&p](response&& r) {
    double total = 0;
    std::istringstream in(r.value.str);
    std::string line;
    while (std::getline(in, line))
      for (const char* field : {"used_cpu_sys:", "used_cpu_user:"})
        if (line.rfind(field, 0) == 0)
          total += std::stod(line.substr(std::string(field).size()));
    p.set_value(total);
  });
  return p.get_future().get();
}

struct counter {
  std::mutex mu;
  std::condition_variable cv;
  size_t n = 0;
  void add() {
    std::lock_guard<std::mutex> guard(mu);
    ++n;
    cv.notify_all();
  }
  void wait_for(size_t target) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return n >= target; });
  }
};

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Cost of sequencing room messages through Redis"};
  std::string uri;
  size_t messages = 20000, text_bytes = 100;
  std::vector<size_t> batches = {1, 10, 100};
  bool subscribe = true, cids = true;
  app.add_option("--uri", uri, "redis://host:port or redis+cluster://host:port,...")->required();
  app.add_option("--messages", messages, "messages per batch size");
  app.add_option("--batch", batches, "calls in flight per round")->delimiter(',');
  app.add_option("--text-bytes", text_bytes, "message text size");
  app.add_flag("!--no-subscriber", subscribe, "do not receive the published messages");
  app.add_flag("!--no-cid", cids, "send without cid (no dedupe work in the script)");
  CLI11_PARSE(app, argc, argv);

  chat::config::node_config cfg;
  cfg.redis_uri = uri;
  cfg.node = "bench";
  settings s;
  auto err = from_config(cfg, s);
  if (!err.empty()) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 2;
  }
  s.stream_max = 1000;
  s.batch_delay = std::chrono::microseconds(0); // the rounds below are the batches
  client rc(s);
  rc.start();
  room_log log(rc);
  auto up_deadline = clock_type::now() + std::chrono::seconds(10);
  while (!rc.up() && clock_type::now() < up_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!rc.up()) {
    std::fprintf(stderr, "Redis at %s is not reachable\n", uri.c_str());
    return 1;
  }

  std::printf("%-6s %10s %12s %16s %16s\n", "batch", "msg/s", "us/round", "redis ms/1k msg",
              "client ms/1k msg");
  auto run_id = std::to_string(clock_type::now().time_since_epoch().count());
  for (size_t batch : batches) {
    if (batch == 0)
      continue;
    auto room = "bench-" + run_id + "-" + std::to_string(batch);
    counter received;
    std::promise<void> active;
    if (subscribe) {
      rc.subscribe(room_channel(room), {[&received](std::string_view) { received.add(); },
                                        [&active](bool) { active.set_value(); }});
      active.get_future().wait();
    }
    room_message m;
    m.room = room;
    m.user = "bench";
    m.text = std::string(text_bytes, 'x');
    m.origin = "bench";
    // The first call seeds the room's counter.
    std::promise<void> seeded;
    log.sequence(m, 0, true, false, [&seeded](seq_result&&) { seeded.set_value(); });
    seeded.get_future().wait();

    auto cpu_server0 = server_cpu_s(rc);
    auto cpu_client0 = process_cpu_s();
    auto t0 = clock_type::now();
    std::atomic<size_t> failures{0};
    size_t sent = 0, rounds = 0;
    while (sent < messages) {
      size_t n = std::min(batch, messages - sent);
      counter answered;
      for (size_t i = 0; i < n; ++i) {
        m.cid = cids ? std::to_string(sent + i) : std::string();
        m.ts_ms = int64_t(sent + i);
        if (!log.sequence(m, 0, false, false, [&](seq_result&& r) {
              if (r.status != seq_status::sequenced)
                ++failures;
              answered.add();
            })) {
          ++failures;
          answered.add();
        }
      }
      answered.wait_for(n);
      sent += n;
      ++rounds;
    }
    if (subscribe)
      received.wait_for(messages + 1);
    auto secs = std::chrono::duration<double>(clock_type::now() - t0).count();
    auto cpu_client = process_cpu_s() - cpu_client0;
    auto cpu_server = server_cpu_s(rc) - cpu_server0;
    if (subscribe)
      rc.unsubscribe(room_channel(room));
    std::printf("%-6zu %10.0f %12.1f %16.3f %16.3f%s\n", batch, double(messages) / secs,
                secs * 1e6 / double(rounds), cpu_server * 1000.0 / (double(messages) / 1000.0),
                cpu_client * 1000.0 / (double(messages) / 1000.0),
                failures ? "  (failures!)" : "");
  }
  rc.stop();
  return 0;
}
