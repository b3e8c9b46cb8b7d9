// Store reads for rooms, off the actor workers: `storage.readers` detached reader actors,
// each with its own store connection. A room asks one (request/then) and keeps serving
// live traffic while the read runs, so a slow or failing store never stalls a worker
// thread or other rooms. Every read is paged and bounded in count and bytes. A failed
// read answers ok=false (logged, counted), never a short result; the caller answers
// `unavailable`. Reads waiting beyond `storage.read-queue` are refused at once.
#pragma once

#include "actors/stats.hpp"
#include "actors/wire.hpp"
#include "config/node_config.hpp"
#include "storage/message_store.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <vector>

namespace chat {

using rd_start_atom = caf::atom_constant<caf::atom("rd_start")>;
using rd_since_atom = caf::atom_constant<caf::atom("rd_since")>;
using rd_hist_atom = caf::atom_constant<caf::atom("rd_hist")>;
using rd_one_atom = caf::atom_constant<caf::atom("rd_one")>;
using rd_cid_atom = caf::atom_constant<caf::atom("rd_cid")>;
using rd_probe_atom = caf::atom_constant<caf::atom("rd_probe")>;

// What a room needs from the store to start: where its numbering continues and the
// client message ids of its dedupe window.
struct room_start_info {
  uint64_t last_seq = 0; // highest stored seq
  uint64_t mark = 0;     // durable seq reservation
  std::vector<storage::cid_entry> cids;
};

struct read_reply {
  bool ok = true;
  std::string error;
  std::vector<chat_message> messages; // oldest first
  room_start_info start;
};

// Requests a reader understands (all answer read_reply):
//   (rd_start, room, cid_window)
//   (rd_since, room, after, upto, max_count, max_bytes): seq in (after, upto], upto 0: any
//   (rd_hist, room, before, limit, max_bytes): the newest `limit` below `before` (0: all)
//   (rd_one, room, seq): the message with this seq, or none
//   (rd_cid, room, user, cid): the message `user` stored under `cid`, or none
class store_readers {
public:
  using store_factory = std::function<std::unique_ptr<storage::message_store>()>;

  store_readers(caf::actor_system& sys, const config::node_config& cfg, store_factory make,
                node_counters& counters);
  ~store_readers();

  // A reader for one request (counted until the reader takes it up), or a null handle
  // when storage.read-queue reads are already waiting.
  caf::actor acquire();
  // The store answered the last probe (once a second).
  bool healthy() const { return healthy_->load(std::memory_order_relaxed); }
  void stop();

private:
  std::vector<caf::actor> readers_;
  std::atomic<size_t> next_{0};
  std::shared_ptr<std::atomic<uint64_t>> waiting_;
  std::shared_ptr<std::atomic<bool>> healthy_;
  uint64_t max_waiting_;
};

} // namespace chat

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::read_reply)
