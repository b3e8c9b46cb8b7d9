// The pruning passes of the retention actor.
#include "actors/retention.hpp"

#include "config/log.hpp"

#include <caf/all.hpp>

#include <chrono>

namespace chat {

namespace {

using prune_atom = caf::atom_constant<caf::atom("prune")>;

enum table : size_t { access_log, users, messages, table_count };
const char* table_names[] = {"access log", "users", "messages"};

struct retention_state {
  node_counters* counters = nullptr;
  config::node_config cfg;
  size_t current = 0; // the table this pass prunes now

  int64_t cutoff(size_t t) const {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
    switch (t) {
      case access_log: return now - int64_t(cfg.access_log_retention.count());
      case users: return now - int64_t(cfg.user_retention.count());
      default: return now - int64_t(cfg.retention.count());
    }
  }
  bool enabled(size_t t) const { return t != messages || cfg.retention.count() > 0; }
};

using retention_pointer = caf::stateful_actor<retention_state>*;

caf::behavior retention_impl(retention_pointer self, config::node_config cfg,
                             std::shared_ptr<storage::message_store> messages,
                             std::shared_ptr<storage::user_store> users,
                             node_counters* counters) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.counters = counters;
  auto pause = std::chrono::milliseconds(10);
  self->delayed_send(self, st.cfg.prune_interval, prune_atom::value);
  return {
    [self, messages, users, pause](prune_atom) {
      auto& st = self->state;
      while (st.current < table_count && !st.enabled(st.current))
        ++st.current;
      if (st.current == table_count) {
        st.current = 0;
        self->delayed_send(self, st.cfg.prune_interval, prune_atom::value);
        return;
      }
      uint64_t n = 0;
      try {
        auto t = st.current;
        auto cut = st.cutoff(t);
        if (t == table::access_log)
          n = users->prune_access_log(cut, st.cfg.prune_batch);
        else if (t == table::users)
          n = users->prune_users(cut, st.cfg.prune_batch);
        else
          n = messages->prune_messages(cut, st.cfg.prune_batch);
      } catch (const std::exception& e) {
        st.counters->prune_failures.fetch_add(1, std::memory_order_relaxed);
        CHAT_LOG_LIMITED(spdlog::level::warn, "pruning the {} failed (retried next pass): {}",
                         table_names[st.current], e.what());
      }
      st.counters->pruned[st.current].fetch_add(n, std::memory_order_relaxed);
      if (n < st.cfg.prune_batch)
        ++st.current; // this table is done for this pass
      self->delayed_send(self, pause, prune_atom::value);
    },
  };
}

} // namespace

caf::actor spawn_retention(caf::actor_system& sys, const config::node_config& cfg,
                           std::unique_ptr<storage::message_store> messages,
                           std::unique_ptr<storage::user_store> users,
                           node_counters& counters) {
  return sys.spawn<caf::detached>(retention_impl, cfg,
                                  std::shared_ptr<storage::message_store>(std::move(messages)),
                                  std::shared_ptr<storage::user_store>(std::move(users)),
                                  &counters);
}

} // namespace chat
