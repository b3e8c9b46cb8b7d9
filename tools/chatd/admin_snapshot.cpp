// Statistics gathering for the admin endpoint.
#include "tools/chatd/admin_snapshot.hpp"

#include "actors/node_context.hpp"
#include "net/server.hpp"

#include <caf/all.hpp>

namespace chat::tools {

namespace {

constexpr auto ask_timeout = std::chrono::seconds(2);

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
  caf::scoped_actor self{ctx.sys};
  for (auto& [name, room] : ctx.rooms.snapshot())
    self->request(room, ask_timeout, r_stats_atom::value, false)
      .receive([&](room_stats& s) { out.push_back(std::move(s)); }, [](caf::error&) {});
  std::sort(out.begin(), out.end(),
            [](const room_stats& a, const room_stats& b) { return a.room < b.room; });
  return out;
}

std::optional<room_stats> admin_snapshot::room(const std::string& id) {
  for (auto& [name, room] : ctx.rooms.snapshot()) {
    if (name != id)
      continue;
    std::optional<room_stats> out;
    caf::scoped_actor self{ctx.sys};
    self->request(room, ask_timeout, r_stats_atom::value, true)
      .receive([&](room_stats& s) { out = std::move(s); }, [](caf::error&) {});
    return out;
  }
  return std::nullopt;
}

std::vector<connection_row> admin_snapshot::connections() {
  std::vector<connection_row> out;
  caf::scoped_actor self{ctx.sys};
  auto now = std::chrono::steady_clock::now();
  for (auto& s : srv.sessions()) {
    connection_row row;
    row.id = s->id();
    row.user = s->user();
    row.remote = s->remote();
    row.queue_bytes = s->queued_bytes();
    row.age_s = std::chrono::duration<double>(now - s->started()).count();
    row.frames_in = s->frames_in();
    row.frames_out = s->frames_out();
    if (s->actor())
      self->request(s->actor(), ask_timeout, c_stats_atom::value)
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

node_totals admin_snapshot::totals(const std::vector<room_stats>& rooms, const presence_stats& p) {
  node_totals t;
  auto sessions = srv.sessions();
  t.connections = sessions.size();
  t.rooms = rooms.size();
  t.online_users = p.users.size();
  t.actors = rooms.size() + sessions.size() + 1
             + (ctx.persistence ? ctx.cfg.writers + 1 : 0);
  for (auto& r : rooms) {
    t.messages += r.messages;
    t.deliveries += r.deliveries;
    t.acks_seq += r.acks_seq;
    t.latency.merge(r.latency);
  }
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
  auto rs = rooms();
  uint64_t messages = 0, deliveries = 0;
  for (auto& r : rs) {
    record("room/" + r.room, double(r.messages), now);
    record("room-actor/" + r.room, double(r.handled), now);
    messages += r.messages;
    deliveries += r.deliveries;
  }
  record("node/messages", double(messages), now);
  record("node/deliveries", double(deliveries), now);
  auto p = presence();
  record("presence", double(p.handled), now);
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
