// User writer behaviour (detached: store calls block).
#include "actors/user_writer.hpp"

#include "actors/interfaces.hpp"
#include "config/log.hpp"

#include <caf/all.hpp>

#include <deque>

#include <thread>
#include <unordered_map>

namespace chat {

namespace {

struct user_writer_state {
  std::shared_ptr<storage::user_store> store;
  std::unordered_map<std::string, std::pair<bool, int64_t>> online; // user -> (flag, ts)
  std::deque<storage::access_entry> log;
  size_t log_max = 0;
  std::shared_ptr<std::atomic<uint64_t>> dropped;
  bool timer_armed = false;
};

using user_writer_pointer = caf::stateful_actor<user_writer_state>*;

bool write_pending(user_writer_pointer self) {
  auto& st = self->state;
  if (st.online.empty() && st.log.empty())
    return true;
  try {
    for (auto i = st.online.begin(); i != st.online.end(); i = st.online.erase(i))
      st.store->set_online(i->first, i->second.first, i->second.second);
    if (!st.log.empty()) {
      st.store->log_access(std::vector<storage::access_entry>(st.log.begin(), st.log.end()));
      st.log.clear();
    }
    return true;
  } catch (const std::exception& e) {
    CHAT_LOG_LIMITED(spdlog::level::warn,
                     "user writer: writing {} online flags and {} access-log rows failed, "
                     "retrying: {}",
                     st.online.size(), st.log.size(), e.what());
    return false;
  }
}

void arm(user_writer_pointer self) {
  if (!self->state.timer_armed) {
    self->state.timer_armed = true;
    self->delayed_send(self, std::chrono::milliseconds(100), w_tick_atom::value);
  }
}

caf::behavior user_writer_impl(user_writer_pointer self,
                               std::shared_ptr<storage::user_store> store, size_t log_max,
                               std::shared_ptr<std::atomic<uint64_t>> dropped) {
  self->state.store = std::move(store);
  self->state.log_max = log_max;
  self->state.dropped = std::move(dropped);
  return {
    [self](u_online_atom, std::string& user, bool online, int64_t ts) {
      self->state.online[user] = {online, ts};
      arm(self);
    },
    [self](u_access_atom, storage::access_entry& e) {
      auto& st = self->state;
      st.log.push_back(std::move(e));
      while (st.log.size() > st.log_max) {
        st.log.pop_front();
        st.dropped->fetch_add(1, std::memory_order_relaxed);
      }
      arm(self);
    },
    [self](w_tick_atom) {
      self->state.timer_armed = false;
      if (!write_pending(self))
        arm(self); // retry on the next tick
    },
    [self](w_flush_atom, int64_t deadline_ns) -> bool {
      auto deadline = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline_ns));
      while (!write_pending(self)) {
        if (std::chrono::steady_clock::now() >= deadline) {
          spdlog::error("user writer: {} online flags and {} access-log rows not written at "
                        "shutdown: the store failed",
                        self->state.online.size(), self->state.log.size());
          return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      return true;
    },
  };
}

} // namespace

caf::actor spawn_user_writer(caf::actor_system& sys, std::unique_ptr<storage::user_store> store,
                             size_t log_max, std::shared_ptr<std::atomic<uint64_t>> dropped) {
  return sys.spawn<caf::detached>(user_writer_impl,
                                  std::shared_ptr<storage::user_store>(std::move(store)),
                                  log_max, std::move(dropped));
}

} // namespace chat
