// One-shot subcommands: the JSON passthrough and the human tables of each route.
#include "commands.hpp"

#include "tables.hpp"
#include "units.hpp"

#include <algorithm>

namespace chat::chatctl {

namespace {

void print_json(std::ostream& out, const std::string& body) {
  out << body;
  if (body.empty() || body.back() != '\n')
    out << '\n';
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (auto& i : items)
    out += (out.empty() ? "" : sep) + i;
  return out;
}

// Orders ids numerically when both are numbers (connection ids), else as text.
bool id_less(const std::string& a, const std::string& b) {
  auto numeric = [](const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (numeric(a) && numeric(b) && a.size() != b.size())
    return a.size() < b.size();
  return a < b;
}

int kind_rank(const std::string& kind) {
  static const char* order[] = {"room", "connection", "presence", "writer"};
  for (int i = 0; i < 4; ++i)
    if (kind == order[i])
      return i;
  return 4;
}

std::string plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

} // namespace

void run_status(admin_api& api, print_mode mode, std::ostream& out) {
  auto body = api.node_json();
  if (mode.json)
    return print_json(out, body);
  auto n = parse_node(body);
  const auto& s = n.store;
  print_fields(out, {
    {"node", n.node},
    {"admin", api.where().text()},
    {"uptime", format_duration(n.uptime_s)},
    {"connections", std::to_string(n.connections)},
    {"rooms", std::to_string(n.rooms)},
    {"online users", std::to_string(n.online_users)},
    {"actors", std::to_string(n.actors)},
    {"messages", std::to_string(n.messages) + "  (" + format_rate(n.messages_per_s) + "/s)"},
    {"deliveries", std::to_string(n.deliveries) + "  (" + format_rate(n.deliveries_per_s) + "/s)"},
    {"frames in/out", std::to_string(n.frames_in) + " / " + std::to_string(n.frames_out)},
    {"store", s.backend + ", " + (s.reachable ? "reachable" : "UNREACHABLE") + ", backlog "
                + std::to_string(s.backlog) + ", stored " + std::to_string(s.stored) + " in "
                + plural(s.batches, "batch", "batches") + ", "
                + plural(s.failures, "failure", "failures")},
  });
}

void run_rooms(admin_api& api, print_mode mode, std::ostream& out) {
  auto body = api.rooms_json();
  if (mode.json)
    return print_json(out, body);
  table t({{"ROOM"}, {"MEMBERS", align::right}, {"SEQ", align::right},
           {"MESSAGES", align::right}, {"MSG/S", align::right}, {"MAILBOX", align::right}});
  for (auto& r : parse_rooms(body))
    t.add_row({r.id, std::to_string(r.members), std::to_string(r.last_seq),
               std::to_string(r.messages), format_rate(r.rate), std::to_string(r.mailbox)});
  t.print(out);
}

void run_room(admin_api& api, const std::string& id, print_mode mode, std::ostream& out) {
  auto body = api.room_json(id);
  if (mode.json)
    return print_json(out, body);
  auto r = parse_room(body, "/admin/rooms/" + encode_path_segment(id));
  print_fields(out, {
    {"room", r.id},
    {"members", std::to_string(r.members.size())},
    {"last seq", std::to_string(r.last_seq)},
    {"messages", std::to_string(r.messages) + "  (" + format_rate(r.rate) + "/s)"},
    {"mailbox", std::to_string(r.mailbox)},
  });
  if (r.members.empty())
    return;
  std::sort(r.members.begin(), r.members.end(), [](const room_member& a, const room_member& b) {
    return a.user != b.user ? a.user < b.user : id_less(a.conn, b.conn);
  });
  out << '\n';
  table t({{"USER"}, {"CONN", align::right}});
  for (auto& m : r.members)
    t.add_row({m.user, m.conn});
  t.print(out);
}

void run_users(admin_api& api, print_mode mode, std::ostream& out) {
  auto body = api.users_json();
  if (mode.json)
    return print_json(out, body);
  table t({{"USER"}, {"CONNECTIONS", align::right}, {"NODE"}});
  for (auto& u : parse_users(body))
    t.add_row({u.user, std::to_string(u.connections), u.node});
  t.print(out);
}

void run_nodes(admin_api& api, print_mode mode, std::ostream& out) {
  auto body = api.nodes_json();
  if (mode.json)
    return print_json(out, body);
  table t({{"NODE"}, {"USERS", align::right}, {"CONNECTIONS", align::right},
           {"EXPIRES IN", align::right}});
  for (auto& n : parse_nodes(body))
    t.add_row({n.node, std::to_string(n.users), std::to_string(n.connections),
               std::to_string(n.expires_in_ms) + " ms"});
  t.print(out);
}

void run_conns(admin_api& api, print_mode mode, std::ostream& out) {
  auto body = api.connections_json();
  if (mode.json)
    return print_json(out, body);
  auto conns = parse_connections(body);
  std::sort(conns.begin(), conns.end(),
            [](const conn_info& a, const conn_info& b) { return id_less(a.id, b.id); });
  table t({{"ID", align::right}, {"USER"}, {"REMOTE"}, {"AGE", align::right},
           {"QUEUE", align::right}, {"IN", align::right}, {"OUT", align::right}, {"ROOMS"}});
  for (auto& c : conns)
    t.add_row({c.id, c.user, c.remote, format_duration(c.age_s), format_bytes(c.queue_bytes),
               std::to_string(c.frames_in), std::to_string(c.frames_out), join(c.rooms, ",")});
  t.print(out);
}

void run_actors(admin_api& api, print_mode mode, std::ostream& out) {
  auto body = api.actors_json();
  if (mode.json)
    return print_json(out, body);
  auto actors = parse_actors(body);
  std::sort(actors.begin(), actors.end(), [](const actor_info& a, const actor_info& b) {
    if (kind_rank(a.kind) != kind_rank(b.kind))
      return kind_rank(a.kind) < kind_rank(b.kind);
    if (a.kind != b.kind)
      return a.kind < b.kind;
    return id_less(a.id, b.id);
  });
  table t({{"KIND"}, {"ID"}, {"MAILBOX", align::right}, {"HANDLED", align::right},
           {"MSG/S", align::right}});
  for (auto& a : actors)
    t.add_row({a.kind, a.id, std::to_string(a.mailbox), std::to_string(a.handled),
               format_rate(a.rate)});
  t.print(out);
}

void run_kick(admin_api& api, const std::string& user, print_mode mode, std::ostream& out) {
  auto body = api.kick_json(user);
  if (mode.json)
    return print_json(out, body);
  auto kicked = parse_kicked(body, user);
  if (kicked == 0)
    out << "user '" << printable(user) << "' is not connected; nothing to kick\n";
  else
    out << "kicked '" << printable(user) << "': closed " << plural(kicked, "connection", "connections")
        << '\n';
}

void run_revoke(admin_api& api, const std::string& user, print_mode mode, std::ostream& out) {
  auto body = api.revoke_json(user);
  if (mode.json)
    return print_json(out, body);
  out << "revoked the tokens of '" << printable(user) << "' issued until now; closed "
      << plural(parse_revoked(body, user), "connection", "connections") << " on this node\n";
}

void run_close(admin_api& api, const std::string& conn_id, print_mode mode, std::ostream& out) {
  auto body = api.close_json(conn_id);
  if (mode.json)
    return print_json(out, body);
  if (parse_closed(body, conn_id))
    out << "closed connection " << printable(conn_id) << '\n';
  else
    out << "connection " << printable(conn_id) << " was not closed\n";
}

} // namespace chat::chatctl
