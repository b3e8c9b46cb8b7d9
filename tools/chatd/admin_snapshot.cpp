// Statistics gathering for the admin endpoint.
#include "tools/chatd/admin_snapshot.hpp"

#include "actors/node_context.hpp"
#include "net/server.hpp"

#include <caf/all.hpp>

namespace chat::tools {

namespace {

constexpr auto ask_timeout = std::chrono::milliseconds(1000);

} // namespace

admin_snapshot::admin_snapshot(node_context& c, net::server& s)
  : ctx(c), srv(s), timer_(s.admin_context()) {
  arm();
}

void admin_snapshot::arm() {
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec)
      return;
    sample();
    arm();
  });
}

std::vector<room_stats> admin_snapshot::rooms() {
  std::vector<room_stats> out;
  for (auto& e : ctx.rooms.snapshot()) {
    auto& l = *e.live;
    room_stats s;
    s.room = l.name;
    s.members = l.members.load(std::memory_order_relaxed);
    s.last_seq = l.last_seq.load(std::memory_order_relaxed);
    s.messages = l.messages.load(std::memory_order_relaxed);
    s.deliveries = l.deliveries.load(std::memory_order_relaxed);
    s.acks_seq = l.acks_seq.load(std::memory_order_relaxed);
    s.handled = l.handled.load(std::memory_order_relaxed);
    s.mailbox = l.mailbox.load(std::memory_order_relaxed);
    s.rate = l.sampled.messages_rate;
    s.handled_rate = l.sampled.handled_rate;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const room_stats& a, const room_stats& b) { return a.room < b.room; });
  return out;
}

std::optional<room_stats> admin_snapshot::room(const std::string& id) {
  auto e = ctx.rooms.find(id);
  if (!e)
    return std::nullopt;
  std::optional<room_stats> out;
  caf::scoped_actor self{ctx.sys};
  self->request(e->actor, ask_timeout, r_stats_atom::value, true)
    .receive([&](room_stats& s) { out = std::move(s); }, [](caf::error&) {});
  if (out) {
    out->rate = e->live->sampled.messages_rate;
    out->handled_rate = e->live->sampled.handled_rate;
  }
  return out;
}

std::vector<connection_row> admin_snapshot::connections() {
  std::vector<connection_row> out;
  caf::scoped_actor self{ctx.sys};
  auto now = std::chrono::steady_clock::now();
  // All connections together get at most ask_timeout: one busy actor cannot hold the
  // admin thread for longer (its row then lists no rooms).
  auto deadline = now + ask_timeout;
  for (auto& s : srv.sessions()) {
    connection_row row;
    row.id = s->id();
    row.user = s->user();
    row.remote = s->remote();
    row.queue_bytes = s->queued_bytes();
    row.age_s = std::chrono::duration<double>(now - s->started()).count();
    row.frames_in = s->frames_in();
    row.frames_out = s->frames_out();
    auto left = deadline - std::chrono::steady_clock::now();
    if (s->actor() && left > std::chrono::steady_clock::duration::zero())
      self->request(s->actor(), std::chrono::duration_cast<std::chrono::milliseconds>(left),
                    c_stats_atom::value)
        .receive([&](connection_stats& st) { row.stats = std::move(st); }, [](caf::error&) {});
    record("connection/" + std::to_string(row.id), double(row.stats.handled), now);
    out.push_back(std::move(row));
  }
  std::sort(out.begin(), out.end(),
            [](const connection_row& a, const connection_row& b) { return a.id < b.id; });
  return out;
}

presence_stats admin_snapshot::presence() {
  presence_stats out;
  caf::scoped_actor self{ctx.sys};
  self->request(ctx.presence, ask_timeout, p_users_atom::value)
    .receive([&](presence_stats& p) { out = std::move(p); }, [](caf::error&) {});
  return out;
}

node_totals admin_snapshot::totals(const presence_stats& p) {
  node_totals t;
  auto sessions = srv.sessions();
  t.connections = sessions.size();
  t.rooms = ctx.rooms.size();
  t.online_users = p.users.size();
  t.actors = t.rooms + sessions.size() + 1 + (ctx.persistence ? ctx.cfg.writers + 1 : 0);
  auto traffic = ctx.counters.traffic.sum();
  t.messages = traffic.messages;
  t.deliveries = traffic.deliveries;
  t.acks_seq = traffic.acks_seq;
  t.latency = traffic.latency;
  t.frames_in = ctx.counters.closed_frames_in.load();
  t.frames_out = ctx.counters.closed_frames_out.load();
  for (auto& s : sessions) {
    t.frames_in += s->frames_in();
    t.frames_out += s->frames_out();
    t.queue_bytes += s->queued_bytes();
  }
  t.messages_rate = rate("node/messages");
  t.deliveries_rate = rate("node/deliveries");
  return t;
}

double admin_snapshot::rate(const std::string& key) const {
  auto i = samples_.find(key);
  return i == samples_.end() ? 0 : i->second.rate;
}

void admin_snapshot::record(const std::string& key, double value,
                            std::chrono::steady_clock::time_point now) {
  auto& s = samples_[key];
  if (s.at == std::chrono::steady_clock::time_point{}) {
    s = {value, now, 0};
    return;
  }
  std::chrono::duration<double> dt = now - s.at;
  if (dt.count() >= 0.9) {
    s.rate = std::max(0.0, (value - s.value) / dt.count());
    s.value = value;
    s.at = now;
  }
}

void admin_snapshot::sample() {
  auto now = std::chrono::steady_clock::now();
  // The rooms with traffic since the last sample, and those that had some then (their
  // rate falls back to 0): O(active rooms), however many rooms are alive.
  auto active = ctx.rooms.take_active();
  auto visit = active;
  visit.insert(visit.end(), sampled_.begin(), sampled_.end());
  std::sort(visit.begin(), visit.end());
  visit.erase(std::unique(visit.begin(), visit.end()), visit.end());
  // Rates live in the rooms' own entries: no allocation per room and nothing to forget.
  for (auto& r : visit) {
    auto& s = r->sampled;
    uint64_t messages = r->messages.load(std::memory_order_relaxed);
    uint64_t handled = r->handled.load(std::memory_order_relaxed);
    std::chrono::duration<double> dt = now - s.at;
    if (s.at != std::chrono::steady_clock::time_point{} && dt.count() < 0.9)
      continue;
    if (s.at != std::chrono::steady_clock::time_point{}) {
      s.messages_rate = double(messages - s.messages) / dt.count();
      s.handled_rate = double(handled - s.handled) / dt.count();
    }
    s = {messages, handled, now, s.messages_rate, s.handled_rate};
  }
  sampled_ = std::move(active);
  auto traffic = ctx.counters.traffic.sum();
  record("node/messages", double(traffic.messages), now);
  record("node/deliveries", double(traffic.deliveries), now);
  record("presence", double(ctx.counters.presence_handled.load(std::memory_order_relaxed)), now);
  // Rooms and connections come and go: forget samples nobody refreshed for a minute.
  for (auto i = samples_.begin(); i != samples_.end();)
    i = now - i->second.at > std::chrono::seconds(60) ? samples_.erase(i) : std::next(i);
  if (ctx.persistence) {
    auto writers = ctx.persistence->writer_details();
    for (size_t i = 0; i < writers.size(); ++i)
      record("writer/writer-" + std::to_string(i), double(writers[i].handled), now);
  }
}

} // namespace chat::tools
