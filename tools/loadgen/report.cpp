// Formats progress lines and final summaries (text and JSON) from counter snapshots.
#include "report.hpp"

#include <cstdio>
#include <iomanip>
#include <sstream>

#include <unistd.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace chat::loadgen {

namespace {

double ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

double per_second(uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0;
}

latency_summary summarize(const histogram& h) {
  latency_summary s;
  s.count = h.count();
  s.p50_ms = ms(h.percentile(0.50));
  s.p90_ms = ms(h.percentile(0.90));
  s.p99_ms = ms(h.percentile(0.99));
  s.p999_ms = ms(h.percentile(0.999));
  s.max_ms = ms(h.max());
  return s;
}

std::string errors_text(const std::map<std::string, uint64_t>& errors) {
  if (errors.empty())
    return "none";
  std::string text;
  for (const auto& [code, n] : errors) {
    if (!text.empty())
      text += ' ';
    text += code + "=" + std::to_string(n);
  }
  return text;
}

void print_latency(std::ostream& out, const char* label, const latency_summary& l) {
  out << label << std::fixed << std::setprecision(3) << "p50 " << l.p50_ms << "  p90 " << l.p90_ms
      << "  p99 " << l.p99_ms << "  p99.9 " << l.p999_ms << "  max " << l.max_ms << "  ("
      << l.count << " samples)\n";
}

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_latency(json_writer& w, const char* key, const latency_summary& l) {
  w.Key(key);
  w.StartObject();
  w.Key("count");
  w.Uint64(l.count);
  w.Key("p50");
  w.Double(l.p50_ms);
  w.Key("p90");
  w.Double(l.p90_ms);
  w.Key("p99");
  w.Double(l.p99_ms);
  w.Key("p999");
  w.Double(l.p999_ms);
  w.Key("max");
  w.Double(l.max_ms);
  w.EndObject();
}

void write_errors(json_writer& w, const std::map<std::string, uint64_t>& errors) {
  w.Key("errors");
  w.StartObject();
  for (const auto& [code, n] : errors) {
    w.Key(code.c_str(), static_cast<rapidjson::SizeType>(code.size()));
    w.Uint64(n);
  }
  w.EndObject();
}

void write_setup(json_writer& w, const options& o) {
  w.Key("conns");
  w.Uint64(o.conns);
  w.Key("rooms");
  w.Uint64(o.rooms);
  w.Key("nodes");
  w.Uint64(o.ports.size());
  w.Key("threads");
  w.Uint(o.threads);
}

} // namespace

progress::progress() : tty_(::isatty(STDERR_FILENO) == 1) {}

void progress::show(const std::string& line) {
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    open_ = true;
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void progress::done() {
  if (open_)
    std::fputc('\n', stderr);
  open_ = false;
  std::fflush(stderr);
}

std::string second_line(double at_s, const char* phase, const totals& now, const totals& before,
                        double dt_s) {
  histogram window = now.latency;
  window.subtract(before.latency);
  std::ostringstream line;
  line << std::fixed << std::setprecision(1) << std::setw(6) << at_s << "s " << std::left
       << std::setw(7) << phase << std::right << std::setprecision(0) << " sent/s " << std::setw(7)
       << per_second(now.sent - before.sent, dt_s) << "  deliveries/s " << std::setw(8)
       << per_second(now.deliveries - before.deliveries, dt_s) << "  p99 " << std::setw(8);
  if (window.count() > 0)
    line << std::setprecision(3) << ms(window.percentile(0.99)) << " ms";
  else
    line << "-";
  if (now.errors_total != before.errors_total)
    line << "  errors " << now.errors_total - before.errors_total;
  if (now.disconnects != before.disconnects)
    line << "  disconnects " << now.disconnects - before.disconnects;
  return line.str();
}

load_summary summarize(const options& o, const totals& t) {
  load_summary s;
  s.measured_s = o.duration;
  s.sent = t.sent_measured;
  s.sent_per_s = per_second(t.sent_measured, o.duration);
  s.deliveries = t.deliveries_measured;
  s.deliveries_per_s = per_second(t.deliveries_measured, o.duration);
  s.expected = t.expected;
  s.delivered_ratio =
      t.expected > 0 ? static_cast<double>(t.deliveries_measured) / static_cast<double>(t.expected)
                     : 0;
  s.send_skipped = t.send_skipped;
  s.acks = t.acks_measured;
  s.order_violations = t.order_violations;
  s.disconnects = t.disconnects;
  s.errors = t.errors;
  s.latency = summarize(t.latency_measured);
  s.ack_latency = summarize(t.ack_latency);
  return s;
}

void print_text(std::ostream& out, const options& o, const load_summary& s) {
  out << std::fixed << std::setprecision(1);
  out << "run: " << o.conns << " conns, " << o.rooms << " rooms, " << o.senders << " senders, "
      << o.ports.size() << " node(s), target " << o.rate << " msg/s, " << o.size
      << " B text, ack=" << to_string(o.ack) << "; warm-up " << o.warmup << " s, measured "
      << s.measured_s << " s, drain " << o.drain << " s\n";
  out << "sent/s            " << s.sent_per_s << "  (" << s.sent << " sent";
  if (s.send_skipped > 0)
    out << ", " << s.send_skipped << " skipped while disconnected";
  out << ")\n";
  out << "deliveries/s      " << s.deliveries_per_s << "  (" << s.deliveries << " of "
      << s.expected << " expected)\n";
  out << std::setprecision(5) << "delivered ratio   " << s.delivered_ratio << "\n";
  print_latency(out, "latency ms        ", s.latency);
  if (s.ack_latency.count > 0)
    print_latency(out, "ack latency ms    ", s.ack_latency);
  out << "acks              " << s.acks << " of " << s.sent << " sent\n";
  out << "order violations  " << s.order_violations << "\n";
  out << "disconnects       " << s.disconnects << "\n";
  out << "errors            " << errors_text(s.errors) << "\n";
}

void print_json(std::ostream& out, const options& o, const load_summary& s) {
  rapidjson::StringBuffer buffer;
  json_writer w{buffer};
  w.StartObject();
  w.Key("mode");
  w.String("load");
  write_setup(w, o);
  w.Key("senders");
  w.Uint64(o.senders);
  w.Key("rate");
  w.Double(o.rate);
  w.Key("size");
  w.Uint64(o.size);
  w.Key("ack");
  w.String(to_string(o.ack));
  w.Key("warmup_s");
  w.Double(o.warmup);
  w.Key("duration_s");
  w.Double(s.measured_s);
  w.Key("drain_s");
  w.Double(o.drain);
  w.Key("sent");
  w.Uint64(s.sent);
  w.Key("sent_per_s");
  w.Double(s.sent_per_s);
  w.Key("send_skipped");
  w.Uint64(s.send_skipped);
  w.Key("deliveries");
  w.Uint64(s.deliveries);
  w.Key("deliveries_per_s");
  w.Double(s.deliveries_per_s);
  w.Key("expected_deliveries");
  w.Uint64(s.expected);
  w.Key("delivered_ratio");
  w.Double(s.delivered_ratio);
  w.Key("acks");
  w.Uint64(s.acks);
  w.Key("order_violations");
  w.Uint64(s.order_violations);
  w.Key("disconnects");
  w.Uint64(s.disconnects);
  write_errors(w, s.errors);
  write_latency(w, "latency_ms", s.latency);
  write_latency(w, "ack_latency_ms", s.ack_latency);
  w.EndObject();
  out << buffer.GetString() << "\n";
}

void print_text(std::ostream& out, const options& o, const idle_summary& s) {
  out << std::fixed << std::setprecision(1) << "idle: held " << s.joined << " of " << o.conns
      << " connections for " << s.held_s << " s, disconnects " << s.disconnects << ", errors "
      << errors_text(s.errors) << "\n";
}

void print_json(std::ostream& out, const options& o, const idle_summary& s) {
  rapidjson::StringBuffer buffer;
  json_writer w{buffer};
  w.StartObject();
  w.Key("mode");
  w.String("idle");
  write_setup(w, o);
  w.Key("joined");
  w.Uint64(s.joined);
  w.Key("held_s");
  w.Double(s.held_s);
  w.Key("disconnects");
  w.Uint64(s.disconnects);
  write_errors(w, s.errors);
  w.EndObject();
  out << buffer.GetString() << "\n";
}

} // namespace chat::loadgen
