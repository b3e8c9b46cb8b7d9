// Reader actors: paged, bounded store reads with every failure logged and counted.
#include "actors/store_readers.hpp"

#include "config/log.hpp"
#include "storage/key_ring.hpp"

#include <caf/all.hpp>

#include <algorithm>

namespace chat {

namespace {

// Rows fetched per store call: small enough that a page of large messages stays small.
constexpr uint32_t chunk_rows = 16;

size_t message_bytes(const chat_message& m) {
  return m.text.size() + m.user.size() + m.cid.size() + m.room.size() + 64;
}

struct reader_state {
  std::shared_ptr<storage::message_store> store;
  std::shared_ptr<std::atomic<uint64_t>> waiting;
  std::shared_ptr<std::atomic<bool>> healthy;
  node_counters* counters = nullptr;

  // Runs one read; a failure becomes ok=false with the reason, logged and counted.
  template <class Read>
  read_reply run(const char* what, const std::string& room, Read&& read) {
    waiting->fetch_sub(1, std::memory_order_relaxed);
    read_reply out;
    try {
      read(out);
    } catch (const storage::key_error& e) {
      counters->decrypt_failures.fetch_add(1, std::memory_order_relaxed);
      counters->store_read_failures.fetch_add(1, std::memory_order_relaxed);
      CHAT_LOG_LIMITED(spdlog::level::err, "store {} of room '{}': cannot decrypt: {}", what,
                       room, e.what());
      out = read_reply{false, std::string("cannot decrypt stored messages: ") + e.what(), {}, {}};
    } catch (const std::exception& e) {
      counters->store_read_failures.fetch_add(1, std::memory_order_relaxed);
      CHAT_LOG_LIMITED(spdlog::level::warn, "store {} of room '{}' failed: {}", what, room,
                       e.what());
      out = read_reply{false, e.what(), {}, {}};
    }
    return out;
  }

  // Messages with seq in (after, upto], oldest first, at most max_count and about
  // max_bytes (at least one).
  void since(read_reply& out, const std::string& room, uint64_t after, uint64_t upto,
             uint32_t max_count, uint64_t max_bytes) {
    uint64_t bytes = 0;
    while (out.messages.size() < max_count && bytes < max_bytes) {
      auto want = std::min<uint32_t>(chunk_rows, max_count - uint32_t(out.messages.size()));
      auto chunk = store->since(room, after, want);
      for (auto& m : chunk) {
        if ((upto != 0 && m.seq > upto) || (bytes >= max_bytes && !out.messages.empty()))
          return;
        after = m.seq;
        bytes += message_bytes(m);
        out.messages.push_back(std::move(m));
      }
      if (chunk.size() < want)
        return;
    }
  }

  // The newest messages below `before` (0: the newest), at most `limit` and about
  // max_bytes (at least one), oldest first.
  void history(read_reply& out, const std::string& room, uint64_t before, uint32_t limit,
               uint64_t max_bytes) {
    uint64_t bytes = 0;
    while (out.messages.size() < limit && bytes < max_bytes && before != 1) {
      auto want = std::min<uint32_t>(chunk_rows, limit - uint32_t(out.messages.size()));
      auto chunk = store->history(room, before, want);
      for (auto i = chunk.rbegin(); i != chunk.rend(); ++i) {
        if (bytes >= max_bytes && !out.messages.empty())
          break;
        bytes += message_bytes(*i);
        out.messages.push_back(std::move(*i));
      }
      if (chunk.size() < want || chunk.empty())
        break;
      before = chunk.front().seq;
    }
    std::reverse(out.messages.begin(), out.messages.end());
  }
};

using reader_pointer = caf::stateful_actor<reader_state>*;

caf::behavior reader_impl(reader_pointer self, std::shared_ptr<storage::message_store> store,
                          std::shared_ptr<std::atomic<uint64_t>> waiting,
                          std::shared_ptr<std::atomic<bool>> healthy, node_counters* counters,
                          bool prober) {
  auto& st = self->state;
  st.store = std::move(store);
  st.waiting = std::move(waiting);
  st.healthy = std::move(healthy);
  st.counters = counters;
  if (prober)
    self->send(self, rd_probe_atom::value);
  return {
    [self](rd_start_atom, const std::string& room, uint32_t window) {
      auto& st = self->state;
      return st.run("start-up read", room, [&](read_reply& out) {
        out.start.last_seq = st.store->last_seq(room);
        out.start.mark = st.store->read_mark(room);
        if (window > 0)
          out.start.cids = st.store->recent_cids(room, window);
      });
    },
    [self](rd_since_atom, const std::string& room, uint64_t after, uint64_t upto,
           uint32_t max_count, uint64_t max_bytes) {
      auto& st = self->state;
      return st.run("replay read", room, [&](read_reply& out) {
        st.since(out, room, after, upto, max_count, max_bytes);
      });
    },
    [self](rd_hist_atom, const std::string& room, uint64_t before, uint32_t limit,
           uint64_t max_bytes) {
      auto& st = self->state;
      return st.run("history read", room, [&](read_reply& out) {
        st.history(out, room, before, limit, max_bytes);
      });
    },
    [self](rd_one_atom, const std::string& room, uint64_t seq) {
      auto& st = self->state;
      return st.run("message read", room, [&](read_reply& out) {
        if (seq == 0)
          return;
        for (auto& m : st.store->since(room, seq - 1, 1))
          if (m.seq == seq)
            out.messages.push_back(std::move(m));
      });
    },
    [self](rd_cid_atom, const std::string& room, const std::string& user,
           const std::string& cid) {
      auto& st = self->state;
      return st.run("message id read", room, [&](read_reply& out) {
        auto seq = st.store->find_cid(room, user, cid);
        if (seq == 0)
          return;
        for (auto& m : st.store->since(room, seq - 1, 1))
          if (m.seq == seq)
            out.messages.push_back(std::move(m));
      });
    },
    [self](rd_probe_atom) {
      bool ok = false;
      try {
        ok = self->state.store->reachable();
      } catch (const std::exception& e) {
        CHAT_LOG_LIMITED(spdlog::level::warn, "store probe failed: {}", e.what());
      }
      if (!ok)
        CHAT_LOG_LIMITED(spdlog::level::warn, "store probe: the store is not reachable");
      self->state.healthy->store(ok, std::memory_order_relaxed);
      self->delayed_send(self, std::chrono::seconds(1), rd_probe_atom::value);
    },
  };
}

} // namespace

store_readers::store_readers(caf::actor_system& sys, const config::node_config& cfg,
                             store_factory make, node_counters& counters)
  : waiting_(std::make_shared<std::atomic<uint64_t>>(0)),
    healthy_(std::make_shared<std::atomic<bool>>(true)),
    max_waiting_(cfg.read_queue) {
  for (uint32_t i = 0; i < cfg.readers; ++i)
    readers_.push_back(sys.spawn<caf::detached>(
      reader_impl, std::shared_ptr<storage::message_store>(make()), waiting_, healthy_,
      &counters, i == 0));
}

store_readers::~store_readers() {
  stop();
}

caf::actor store_readers::acquire() {
  if (readers_.empty())
    return {};
  if (waiting_->fetch_add(1, std::memory_order_relaxed) >= max_waiting_) {
    waiting_->fetch_sub(1, std::memory_order_relaxed);
    return {};
  }
  return readers_[next_.fetch_add(1, std::memory_order_relaxed) % readers_.size()];
}

void store_readers::stop() {
  for (auto& r : readers_)
    caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  readers_.clear();
}

} // namespace chat
