// The one-shot subcommands (status, rooms, room, users, conns, actors, kick, revoke, close): fetch,
// then print an aligned table for people or the endpoint's raw JSON for scripts.
#pragma once

#include "admin_api.hpp"

#include <ostream>
#include <string>

namespace chat::chatctl {

struct print_mode {
  bool json = false;
};

void run_status(admin_api& api, print_mode mode, std::ostream& out);
void run_rooms(admin_api& api, print_mode mode, std::ostream& out);
void run_room(admin_api& api, const std::string& id, print_mode mode, std::ostream& out);
void run_users(admin_api& api, print_mode mode, std::ostream& out);
void run_nodes(admin_api& api, print_mode mode, std::ostream& out);
void run_conns(admin_api& api, print_mode mode, std::ostream& out);
void run_actors(admin_api& api, print_mode mode, std::ostream& out);
void run_kick(admin_api& api, const std::string& user, print_mode mode, std::ostream& out);
void run_revoke(admin_api& api, const std::string& user, print_mode mode, std::ostream& out);
void run_close(admin_api& api, const std::string& conn_id, print_mode mode, std::ostream& out);

} // namespace chat::chatctl
