// chatd: the chat node. Reads caf-application.conf (or --config-file=), validates the
// node's sections, starts the actor system, storage and listeners, prints the bound
// ports, and on SIGINT/SIGTERM drains: stop accepting, close sessions, stop the rooms,
// flush storage. What the store cannot take within storage.shutdown-timeout is saved in
// a recovery file (exit code 3, one line saying how many messages), stored first at the
// next start.
#include "actors/lane_scheduler.hpp"
#include "actors/node_context.hpp"
#include "actors/persistence_pool.hpp"
#include "actors/presence_actor.hpp"
#include "actors/redis_bridge.hpp"
#include "actors/retention.hpp"
#include "actors/store_readers.hpp"
#include "config/log.hpp"
#include "config/node_config.hpp"
#include "net/auth/account_service.hpp"
#include "net/server.hpp"
#include "tools/chatd/admin_routes.hpp"
#include "tools/chatd/storage_setup.hpp"

#include <caf/all.hpp>

#include <csignal>
#include <optional>
#include <iostream>
#include <pthread.h>
#include <thread>

namespace {

const char* usage =
  "usage: chatd [--config-file=PATH] [--section.key=value ...]\n"
  "       chatd --gen-key[=ID]   print a new at-rest key line for security.at-rest-keys\n"
  "       chatd --gen-token-key  print a new token signing key for security.token-key\n"
  "Reads ./caf-application.conf when present. Every key of [chat] [net] [admin] [storage]\n"
  "[mongo] [redis] [security] [log] can be overridden, e.g. --net.port=0 (pick a free port).\n";

// Closed sessions reach presence through their connection actors; wait until every user
// is offline so the last presence updates are flushed with the store.
void wait_for_disconnects(caf::actor_system& sys, chat::node_context& ctx,
                          std::chrono::milliseconds limit) {
  caf::scoped_actor self{sys};
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    size_t online = 0;
    self->request(ctx.presence, std::chrono::seconds(1), chat::p_users_atom::value)
      .receive([&](chat::presence_stats& p) { online = p.users.size(); }, [](caf::error&) {});
    if (online == 0 || std::chrono::steady_clock::now() > deadline)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Stops every room after what its mailbox holds (so sends already accepted reach the
// persistence pool), then waits until all of them are gone.
void stop_rooms(chat::node_context& ctx, std::chrono::milliseconds limit) {
  ctx.stopping = true;
  auto t0 = std::chrono::steady_clock::now();
  auto rooms = ctx.rooms.actors();
  for (auto& room : rooms)
    caf::anon_send(room, chat::r_stop_atom::value);
  spdlog::debug("stop sent to {} rooms in {} ms", rooms.size(),
                std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - t0).count());
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (ctx.counters.rooms_stopped.load() < ctx.counters.rooms_started.load()
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep) {
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << usage;
      return 0;
    }
    if (a == "--gen-token-key") {
      std::cout << chat::auth::token_key::generate_hex() << "\n";
      return 0;
    }
    if (a.rfind("--gen-key", 0) == 0)
      return chat::tools::print_new_key(a);
  }
  auto loaded = chat::config::load(args);
  if (!loaded.error.empty()) {
    std::cerr << "chatd: " << loaded.error << "\n";
    return 2;
  }
  const auto& cfg = loaded.cfg;
  chat::logging::init(cfg.log_level);

  // Signals are taken by sigwait in main; every thread started later inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // A file-size limit (ulimit -f) then fails a write like a full disk does (the store
  // retries, shutdown saves a recovery file) instead of killing the process.
  std::signal(SIGXFSZ, SIG_IGN);

  caf::actor_system_config caf_cfg;
  if (auto err = caf_cfg.parse(loaded.caf_args, loaded.config_file.empty()
                                                  ? nullptr
                                                  : loaded.config_file.c_str())) {
    std::cerr << "chatd: config: " << caf_cfg.render(err) << "\n";
    return 2;
  }
  if (caf_cfg.cli_helptext_printed)
    return 0;
  // policy='network': actors run on the network threads (one lane each), not CAF's workers.
  if (caf::get_or(caf_cfg, "scheduler.policy", caf::atom("stealing")) == caf::atom("network"))
    chat::lane_scheduler::install(caf_cfg, cfg.io_threads);

  auto stores = chat::tools::open_storage(cfg);
  if (!stores.error.empty()) {
    std::cerr << "chatd: " << stores.error << "\n";
    return stores.exit_code;
  }
  if (auto err = chat::tools::store_recovery_files(cfg, stores); !err.empty()) {
    std::cerr << "chatd: " << err << "\n";
    return 1;
  }
  std::optional<chat::auth::token_key> token_key;
  if (!cfg.token_key.empty()) {
    try {
      token_key.emplace(chat::auth::load_token_key(cfg.token_key));
    } catch (const std::exception& e) {
      std::cerr << "chatd: security.token-key: " << e.what() << "\n";
      return 2;
    }
  }
  if (cfg.allow_anonymous)
    spdlog::warn("security.allow-anonymous=true: any client may claim any user name "
                 "(ws://.../ws?user=NAME); turn it off for real deployments");
  else if (!token_key)
    spdlog::warn("no security.token-key and security.allow-anonymous=false: every client is "
                 "refused (make a key with: chatd --gen-token-key > token.key)");

  chat::redis::settings rs;
  if (auto err = cfg.redis_uri.empty() ? "" : chat::redis::from_config(cfg, rs); !err.empty()) {
    std::cerr << "chatd: " << err << "\n";
    return 2;
  }

  int exit_code = 0;
  {
    caf::actor_system sys{caf_cfg};
    auto ctx = chat::make_node_context(sys, cfg);
    caf::actor retention;
    if (stores.factory) {
      ctx->persistence = std::make_shared<chat::persistence_pool>(sys, cfg, stores.factory,
                                                                  stores.user_factory);
      ctx->readers = std::make_shared<chat::store_readers>(sys, cfg, stores.reader_factory,
                                                           ctx->counters);
      retention = chat::spawn_retention(sys, cfg, stores.reader_factory(),
                                        stores.user_factory(), ctx->counters);
    }
    // Under the lane scheduler the Redis client shares the first network thread with the
    // actors: a room's commands, replies and channel messages change no thread. That
    // thread then runs until the client has stopped (srv->stop_threads() below).
    std::shared_ptr<boost::asio::io_context> first_loop;
    if (!cfg.redis_uri.empty()) {
      if (chat::lane_scheduler::of(sys)) {
        first_loop = std::make_shared<boost::asio::io_context>();
        // What a read from Redis readies (rooms, then their members' writes) runs before
        // the read's handler returns, as for a client's read.
        rs.read_scope = [](const std::function<void()>& handle) {
          chat::lane_scheduler::batch batch;
          handle();
        };
      }
      // Nodes sharing this Redis are one chat: rooms take their seqs from it (the client
      // connects in the background once the node runs; sends wait for it up to
      // redis.unavailable-timeout).
      ctx->redis = std::make_shared<chat::redis_bridge>(rs, chat::presence_listener(*ctx),
                                                        first_loop);
    }
    auto srv = std::make_unique<chat::net::server>(*ctx, first_loop);
    if (token_key) {
      auto& gate = srv->gate();
      gate.set_accounts(std::make_unique<chat::auth::account_service>(
        chat::auth::settings_from(cfg), std::move(*token_key), stores.accounts,
        [&gate](chat::auth::auth_event e) { gate.log(e); },
        [&gate, redis = ctx->redis](const std::string& user, int64_t valid_after_s) {
          if (redis) // every other node closes the user's connections too
            redis->revocations.publish(user, valid_after_s);
          return gate.admit().revoke(user, valid_after_s);
        }));
      if (ctx->redis)
        ctx->redis->revocations.start([&gate](const chat::redis::revocation& r) {
          auto closed = gate.admit().revoke(r.user, r.valid_after_s);
          if (closed > 0)
            gate.log({r.user, "node " + r.origin, "revoke",
                      std::to_string(closed) + " connection(s) closed"});
        });
    }
    try {
      srv->start(chat::tools::make_admin_routes(*ctx, *srv));
      if (ctx->redis)
        ctx->redis->start();
    } catch (const std::exception& e) {
      std::cerr << "chatd: " << e.what() << "\n";
      exit_code = 1;
    }
    if (exit_code == 0) {
      std::cout << "listening ws=" << endpoint_text(srv->ws_endpoint()) << "\n"
                << "listening admin=" << endpoint_text(srv->admin_endpoint()) << "\n"
                << std::flush;
      int sig = 0;
      sigwait(&stop_signals, &sig);
      std::cerr << "chatd: " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
                << ": stopping (closing sessions, flushing storage)\n";
      srv->stop(std::chrono::milliseconds(2000));
      wait_for_disconnects(sys, *ctx, std::chrono::milliseconds(2000));
    }
    auto t0 = std::chrono::steady_clock::now();
    stop_rooms(*ctx, std::chrono::milliseconds(5000));
    spdlog::debug("rooms stopped in {} ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::steady_clock::now() - t0).count());
    if (ctx->persistence) {
      auto left = ctx->persistence->flush_and_stop(std::chrono::steady_clock::now()
                                                   + cfg.shutdown_timeout);
      if (!left.messages.empty()) {
        bool saved = false;
        auto line = chat::tools::save_leftovers(cfg, stores, left.messages, saved);
        std::cerr << "chatd: " << line << "\n";
        exit_code = saved ? 3 : 4;
      }
      ctx->readers->stop();
      caf::anon_send_exit(retention, caf::exit_reason::user_shutdown);
    }
    spdlog::debug("rooms stopped and storage flushed in {} ms",
                  std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - t0).count());
    caf::anon_send_exit(ctx->presence, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
    if (ctx->redis)
      ctx->redis->stop();
    srv->stop_threads();
    spdlog::debug("all actors done after {} ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    std::chrono::steady_clock::now() - t0).count());
    srv.reset();
    ctx.reset();
  }
  if (exit_code == 0)
    std::cerr << "chatd: stopped\n";
  return exit_code;
}
