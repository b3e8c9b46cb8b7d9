// chatctl entry point: the command line (CLI11), dispatch to a subcommand, exit codes
// (0 ok, 1 the node could not be reached or said no, 2 usage error).
#include "admin_api.hpp"
#include "commands.hpp"
#include "endpoint.hpp"
#include "errors.hpp"
#include "top_view.hpp"

#include <CLI/CLI.hpp>

#include <cmath>
#include <exception>
#include <functional>
#include <iostream>

using namespace chat::chatctl;

int main(int argc, char** argv) {
  CLI::App app{"Inspect a running chatd node through its admin endpoint (docs/ADMIN.md)."};
  app.name("chatctl");
  app.fallthrough();
  app.require_subcommand(1);
  app.get_formatter()->column_width(30);

  std::string admin = "127.0.0.1:9090";
  std::string token;
  bool json = false;
  double timeout_s = 5;
  double interval_s = 1;
  std::string arg;

  app.add_option("--admin", admin, "Admin endpoint of the node")
      ->envname("CHATCTL_ADMIN")
      ->type_name("HOST:PORT")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& text) {
            endpoint ep;
            return parse_endpoint(text, ep);
          },
          ""));
  app.add_option("--admin-token", token, "The node's admin.token (when it has one)")
      ->envname("CHATCTL_ADMIN_TOKEN")
      ->type_name("TOKEN");
  app.add_flag("--json", json, "Print the endpoint's raw JSON instead of a table");
  app.add_option("--timeout", timeout_s, "Seconds to wait for each answer")
      ->type_name("SECONDS")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));

  print_mode mode;
  std::function<void(admin_api&)> action;
  auto simple = [&](const char* name, const char* help,
                    void (*run)(admin_api&, print_mode, std::ostream&)) {
    app.add_subcommand(name, help)->callback([&, run] {
      action = [&, run](admin_api& api) { run(api, mode, std::cout); };
    });
  };
  auto with_arg = [&](const char* name, const char* help, const char* arg_name,
                      const char* arg_help,
                      void (*run)(admin_api&, const std::string&, print_mode, std::ostream&)) {
    auto* sub = app.add_subcommand(name, help);
    sub->add_option(arg_name, arg, arg_help)->required();
    sub->callback([&, run] {
      action = [&, run](admin_api& api) { run(api, arg, mode, std::cout); };
    });
  };

  simple("status", "Node summary: totals, rates, store", run_status);
  simple("rooms", "Rooms with members, last seq, message rate, mailbox", run_rooms);
  with_arg("room", "One room and its members", "ID", "Room id", run_room);
  simple("users", "Online users, their connection counts and node", run_users);
  simple("nodes", "Live nodes sharing Redis (this node alone without it)", run_nodes);
  simple("conns", "Connections: user, remote, rooms, queue, age, frames", run_conns);
  simple("actors", "Actors with mailbox size, handled messages and rate", run_actors);
  with_arg("kick", "Close every connection of a user", "USER", "User name", run_kick);
  with_arg("revoke", "Revoke a user's tokens and close their connections", "USER",
           "User name", run_revoke);
  with_arg("close", "Close one connection", "CONN_ID", "Connection id", run_close);
  auto* top = app.add_subcommand("top", "Full-screen live view of the node (q quits)");
  top->add_option("--interval", interval_s, "Seconds between refreshes")
      ->type_name("SECONDS")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  top->callback([&] {
    if (json)
      throw CLI::ValidationError("--json", "top is interactive and has no --json output");
    action = [&](admin_api& api) {
      run_top(api, std::chrono::milliseconds(std::llround(interval_s * 1000)));
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    endpoint ep;
    parse_endpoint(admin, ep);
    mode.json = json;
    admin_api api(ep, std::chrono::milliseconds(std::llround(timeout_s * 1000)), token);
    action(api);
    std::cout.flush();
    return 0;
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "chatctl: " << e.what() << "\n";
    return 1;
  }
}
