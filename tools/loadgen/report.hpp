// Output of a run: per-second progress lines on stderr and the final summary, as text or as
// one JSON object.
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include "options.hpp"
#include "stats.hpp"

namespace chat::loadgen {

// Shows one status line per second: rewritten in place when stderr is a terminal, else
// printed as a plain line.
class progress {
public:
  progress();
  void show(const std::string& line);
  // Ends the rewritten line, if any, so that later output starts on a fresh line.
  void done();

private:
  bool tty_;
  bool open_ = false;
};

// One per-second line: what happened between two snapshots `dt_s` seconds apart.
std::string second_line(double at_s, const char* phase, const totals& now, const totals& before,
                        double dt_s);

struct latency_summary {
  uint64_t count = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
};

struct load_summary {
  double measured_s = 0;
  uint64_t sent = 0; // due inside the measured window
  double sent_per_s = 0;
  uint64_t deliveries = 0; // of those messages, before the end of the drain
  double deliveries_per_s = 0;
  uint64_t expected = 0;
  double delivered_ratio = 0;
  uint64_t send_skipped = 0;
  uint64_t acks = 0; // of the measured messages
  uint64_t order_violations = 0;
  uint64_t disconnects = 0;
  std::map<std::string, uint64_t> errors;
  latency_summary latency;
  latency_summary ack_latency;
};

load_summary summarize(const options& o, const totals& t);
void print_text(std::ostream& out, const options& o, const load_summary& s);
void print_json(std::ostream& out, const options& o, const load_summary& s);

struct idle_summary {
  uint64_t joined = 0;
  double held_s = 0;
  uint64_t disconnects = 0;
  std::map<std::string, uint64_t> errors;
};

void print_text(std::ostream& out, const options& o, const idle_summary& s);
void print_json(std::ostream& out, const options& o, const idle_summary& s);

} // namespace chat::loadgen
