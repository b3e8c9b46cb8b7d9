// The admin endpoint's routes as calls: raw bodies (for --json) and typed answers.
#pragma once

#include "admin_types.hpp"
#include "endpoint.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace chat::chatctl {

class admin_api {
public:
  // `token`: the node's admin.token ("" when it has none).
  admin_api(endpoint ep, std::chrono::milliseconds timeout, std::string token = "");

  const endpoint& where() const { return ep_; }

  // Raw JSON bodies of successful answers; non-2xx answers throw chatctl_error.
  std::string node_json();
  std::string rooms_json();
  std::string room_json(const std::string& id);
  std::string users_json();
  std::string nodes_json();
  std::string connections_json();
  std::string actors_json();
  std::string kick_json(const std::string& user);
  std::string close_json(const std::string& conn_id);
  std::string revoke_json(const std::string& user);

  // Typed answers of the routes the top view polls.
  node_info node();
  std::vector<room_summary> rooms();
  std::vector<actor_info> actors();

private:
  // GET/POST `path`; a 404 throws `not_found` when given (the named thing does not exist),
  // otherwise a message that the node lacks the route.
  std::string call(const std::string& method, const std::string& path,
                   const std::string& not_found = "");

  endpoint ep_;
  std::chrono::milliseconds timeout_;
  std::string token_;
};

// Percent-encodes one path segment (room ids and user names may hold any character).
std::string encode_path_segment(const std::string& text);

// Parsers of the JSON bodies, naming `route` in their errors.
node_info parse_node(const std::string& body);
std::vector<room_summary> parse_rooms(const std::string& body);
room_detail parse_room(const std::string& body, const std::string& route);
std::vector<user_info> parse_users(const std::string& body);
std::vector<node_row> parse_nodes(const std::string& body);
std::vector<conn_info> parse_connections(const std::string& body);
std::vector<actor_info> parse_actors(const std::string& body);
// The "kicked" count of a kick reply and the "closed" flag of a close reply.
uint64_t parse_kicked(const std::string& body, const std::string& user);
// The "closed" count of a revoke reply.
uint64_t parse_revoked(const std::string& body, const std::string& user);
bool parse_closed(const std::string& body, const std::string& conn_id);

} // namespace chat::chatctl
