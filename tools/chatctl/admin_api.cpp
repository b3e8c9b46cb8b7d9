// Admin routes: building the paths, mapping HTTP statuses to messages, parsing the JSON.
#include "admin_api.hpp"

#include "errors.hpp"
#include "http_client.hpp"
#include "json_fields.hpp"

#include <rapidjson/document.h>

namespace chat::chatctl {

namespace {

// The "error" field of an error body, or the body itself when it is not such JSON.
std::string error_text(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    auto it = doc.FindMember("error");
    if (it != doc.MemberEnd() && it->value.IsString())
      return it->value.GetString();
  }
  std::string line = body.substr(0, body.find('\n'));
  return line.size() > 200 ? line.substr(0, 200) + "..." : line;
}

} // namespace

std::string encode_path_segment(const std::string& text) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                 || c == '-' || c == '_' || c == '.' || c == '~';
    if (plain) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

admin_api::admin_api(endpoint ep, std::chrono::milliseconds timeout, std::string token)
  : ep_(std::move(ep)), timeout_(timeout), token_(std::move(token)) {}

std::string admin_api::call(const std::string& method, const std::string& path,
                            const std::string& not_found) {
  // State changes are JSON POSTs (the node refuses other content types, see docs/ADMIN.md).
  auto res = http_request(ep_, method, path, timeout_, method == "POST" ? "{}" : "", token_);
  if (res.status >= 200 && res.status < 300)
    return res.body;
  auto detail = error_text(res.body);
  if (res.status == 404 && !not_found.empty())
    throw chatctl_error(not_found);
  if (res.status == 404)
    throw chatctl_error("admin endpoint " + ep_.text() + " has no route " + method + " " + path
                        + (detail.empty() ? " (404)" : " (404: " + detail + ")"));
  throw chatctl_error("admin endpoint " + ep_.text() + " answered " + std::to_string(res.status)
                      + " to " + method + " " + path + (detail.empty() ? "" : ": " + detail));
}

std::string admin_api::node_json() { return call("GET", "/admin/node"); }
std::string admin_api::rooms_json() { return call("GET", "/admin/rooms"); }
std::string admin_api::users_json() { return call("GET", "/admin/users"); }
std::string admin_api::nodes_json() { return call("GET", "/admin/nodes"); }
std::string admin_api::connections_json() { return call("GET", "/admin/connections"); }
std::string admin_api::actors_json() { return call("GET", "/admin/actors"); }

std::string admin_api::room_json(const std::string& id) {
  return call("GET", "/admin/rooms/" + encode_path_segment(id), "no room '" + id + "'");
}

std::string admin_api::kick_json(const std::string& user) {
  return call("POST", "/admin/users/" + encode_path_segment(user) + "/kick");
}

std::string admin_api::revoke_json(const std::string& user) {
  return call("POST", "/admin/users/" + encode_path_segment(user) + "/revoke");
}

std::string admin_api::close_json(const std::string& conn_id) {
  return call("POST", "/admin/connections/" + encode_path_segment(conn_id) + "/close",
              "no connection '" + conn_id + "'");
}

node_info admin_api::node() { return parse_node(node_json()); }
std::vector<room_summary> admin_api::rooms() { return parse_rooms(rooms_json()); }
std::vector<actor_info> admin_api::actors() { return parse_actors(actors_json()); }

node_info parse_node(const std::string& body) {
  const std::string route = "/admin/node";
  rapidjson::Document doc;
  parse_json(body, route, doc);
  json_view v(doc, route);
  node_info n;
  n.node = v.string("node");
  n.uptime_s = v.number("uptime_s");
  n.connections = v.count("connections");
  n.rooms = v.count("rooms");
  n.online_users = v.count("online_users");
  n.actors = v.count("actors");
  n.messages = v.count("messages");
  n.deliveries = v.count("deliveries");
  n.frames_in = v.count("frames_in");
  n.frames_out = v.count("frames_out");
  auto rates = v.object("rates");
  n.messages_per_s = rates.number("messages_per_s");
  n.deliveries_per_s = rates.number("deliveries_per_s");
  auto store = v.object("store");
  n.store.backend = store.string("backend");
  n.store.backlog = store.count("backlog");
  n.store.stored = store.count("stored");
  n.store.batches = store.count("batches");
  n.store.failures = store.count("failures");
  n.store.reachable = store.boolean("reachable");
  return n;
}

std::vector<room_summary> parse_rooms(const std::string& body) {
  const std::string route = "/admin/rooms";
  rapidjson::Document doc;
  parse_json(body, route, doc);
  std::vector<room_summary> out;
  for (auto& r : json_view(doc, route).array("rooms")) {
    room_summary s;
    s.id = r.id("id");
    s.members = r.count("members");
    s.last_seq = r.count("last_seq");
    s.messages = r.count("messages");
    s.rate = r.number("rate");
    s.mailbox = r.count("mailbox");
    out.push_back(std::move(s));
  }
  return out;
}

room_detail parse_room(const std::string& body, const std::string& route) {
  rapidjson::Document doc;
  parse_json(body, route, doc);
  json_view v(doc, route);
  room_detail d;
  d.id = v.id("id");
  for (auto& m : v.array("members"))
    d.members.push_back({m.string("user"), m.id("conn")});
  d.last_seq = v.count("last_seq");
  d.messages = v.count("messages");
  d.rate = v.number("rate");
  d.mailbox = v.count("mailbox");
  return d;
}

std::vector<user_info> parse_users(const std::string& body) {
  const std::string route = "/admin/users";
  rapidjson::Document doc;
  parse_json(body, route, doc);
  std::vector<user_info> out;
  for (auto& u : json_view(doc, route).array("users"))
    out.push_back({u.string("user"), u.count("connections"), u.string("node")});
  return out;
}

std::vector<node_row> parse_nodes(const std::string& body) {
  const std::string route = "/admin/nodes";
  rapidjson::Document doc;
  parse_json(body, route, doc);
  std::vector<node_row> out;
  for (auto& n : json_view(doc, route).array("nodes"))
    out.push_back({n.string("node"), n.count("users"), n.count("connections"),
                   n.count("expires_in_ms")});
  return out;
}

std::vector<conn_info> parse_connections(const std::string& body) {
  const std::string route = "/admin/connections";
  rapidjson::Document doc;
  parse_json(body, route, doc);
  std::vector<conn_info> out;
  for (auto& c : json_view(doc, route).array("connections")) {
    conn_info i;
    i.id = c.id("id");
    i.user = c.string("user");
    i.remote = c.string("remote");
    i.rooms = c.strings("rooms");
    i.queue_bytes = c.count("queue_bytes");
    i.age_s = c.number("age_s");
    i.frames_in = c.count("frames_in");
    i.frames_out = c.count("frames_out");
    out.push_back(std::move(i));
  }
  return out;
}

std::vector<actor_info> parse_actors(const std::string& body) {
  const std::string route = "/admin/actors";
  rapidjson::Document doc;
  parse_json(body, route, doc);
  std::vector<actor_info> out;
  for (auto& a : json_view(doc, route).array("actors")) {
    actor_info i;
    i.kind = a.string("kind");
    i.id = a.id("id");
    i.mailbox = a.count("mailbox");
    i.handled = a.count("handled");
    i.rate = a.number("rate");
    out.push_back(std::move(i));
  }
  return out;
}

uint64_t parse_revoked(const std::string& body, const std::string& user) {
  auto route = "/admin/users/" + encode_path_segment(user) + "/revoke";
  rapidjson::Document doc;
  parse_json(body, route, doc);
  return json_view(doc, route).count("closed");
}

uint64_t parse_kicked(const std::string& body, const std::string& user) {
  auto route = "/admin/users/" + encode_path_segment(user) + "/kick";
  rapidjson::Document doc;
  parse_json(body, route, doc);
  return json_view(doc, route).count("kicked");
}

bool parse_closed(const std::string& body, const std::string& conn_id) {
  auto route = "/admin/connections/" + encode_path_segment(conn_id) + "/close";
  rapidjson::Document doc;
  parse_json(body, route, doc);
  return json_view(doc, route).boolean("closed");
}

} // namespace chat::chatctl
