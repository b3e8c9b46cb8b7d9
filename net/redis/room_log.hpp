// A room's log in Redis: one script sequences a message (seq, recent-history stream,
// publish, cluster-wide cid dedupe, seeding), and XRANGE reads back a range of seqs for gap
// repair. All keys and the channel of a room share one hash tag, so on a cluster the
// script runs on the room's master.
//
// Keys (tag = the room name with '%' and '}' escaped as %25 / %7D, never empty):
//   seq:{tag}              counter: the room's last seq
//   hist:{tag}             stream, entry id "<seq>-0", field m = body; MAXLEN ~ stream-max
//   cida:{tag}, cidb:{tag} dedupe hashes, alternating generations of dedupe-window seqs
//   chat:{tag}             channel: "<seq>:<body>" (PUBLISH, or SPUBLISH on a cluster)
//   seeded:{tag}           the floor of the last seeding (see below), while recent
// The stream and the dedupe hashes expire after redis.room-idle-ttl without messages (the
// counter stays: a few dozen bytes per room), so rooms that went quiet cost no memory.
//
// Seeding. When seq:{tag} is missing (Redis restarted without persistence, flushed, or a
// failover to an empty replica) an ordinary call answers `needs_seed` and sequences
// nothing. The caller then makes sure its floor covers every seq that may have been handed
// out before — its own room's last seq, and the store's maximum read after waiting long
// enough for other nodes' unstored messages to reach the store (storage.lazy-delay plus a
// margin) — and calls again with `seeded`. Whatever the call, the script numbers from
// max(counter, floor, last stream id) + 1 and writes the counter back, in one atomic step:
// the counter never goes backwards, and two nodes seeding at once cannot hand out one seq
// twice (the second sees the first's counter).
//
// Dedupe after a loss. Redis lost the dedupe hashes with the counter, so a retry of a
// message numbered before the loss (its ack lost too) would be numbered again. A seeding
// that raises the counter writes the floor to seeded:{tag}, and until the counter has
// passed it by redis.dedupe-window (the dedupe hashes' own guarantee), a (user, cid) the
// hashes do not know answers `needs_check`, the seeding call included: the caller looks
// the id up in the shared store (every message numbered before the loss is there once the
// seeding wait is over) and answers the sender from it, or calls again with `checked`.
#pragma once

#include "net/redis/message_codec.hpp"
#include "net/redis/request.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chat::redis {

class client;

struct room_keys {
  std::string seq, hist, cid_a, cid_b, channel, seeded;
};
room_keys keys_for(std::string_view room);
std::string room_channel(std::string_view room);

enum class seq_status : uint8_t {
  sequenced,  // new: `seq` assigned, stored in the stream, published
  duplicate,  // this (user, cid) was sequenced before with the same text: `seq` is its seq
  conflict,   // this (user, cid) was sequenced before with another text: `seq` is that one
  needs_seed, // the counter is missing: seed (see above) and call again with seeded=true
  needs_check, // Redis lost its dedupe entries lately: check the store, call with checked
  failed,     // no answer: see `fail` (unavailable: not run; lost/timeout: may have run)
};

struct seq_result {
  seq_status status = seq_status::failed;
  uint64_t seq = 0;
  int64_t ts_ms = 0;       // duplicate/conflict: the original's timestamp
  failure fail = failure::none;
  std::string error;       // failed: what happened (Redis's error text or the failure)
};

struct range_result {
  bool ok = false;
  std::string error;
  std::vector<room_message> messages; // in seq order
  // Seqs in the asked range that the stream does not hold (trimmed, or before a seed):
  // inclusive [first, last] ranges. Read them from the store.
  std::vector<std::pair<uint64_t, uint64_t>> missing;
  bool truncated = false; // max_count entries came back: ask again after the last one
};

class room_log {
public:
  explicit room_log(client& c);

  // Sequences `m` (its seq is ignored; room, user, cid, text, ts_ms, origin are used).
  // `floor`: no seq at or below it is handed out; `checked`: the store does not hold the
  // (user, cid) (after needs_check). False when refused (queue bound).
  bool sequence(const room_message& m, uint64_t floor, bool seeded, bool checked,
                std::function<void(seq_result&&)> done);
  // The same with the room's keys (keys_for(m.room)) computed once by the caller.
  bool sequence(const room_keys& keys, const room_message& m, uint64_t floor, bool seeded,
                bool checked, std::function<void(seq_result&&)> done);
  // Messages with after < seq <= upto (upto 0: up to the newest), at most max_count
  // (1..settings::max_fetch_rows).
  bool fetch(std::string_view room, uint64_t after, uint64_t upto, uint32_t max_count,
             std::function<void(range_result&&)> done);
  // The room's counter (0 when missing).
  bool last_seq(std::string_view room, std::function<void(bool ok, uint64_t seq)> done);

private:
  client& client_;
  // Script arguments fixed by the settings, formatted once.
  std::string stream_max_, dedupe_window_, idle_ttl_;
};

// The sequencing script's answer to room_log::sequence: a status and its seq, or `failed`
// with the error (Redis's, the failure's, or the reply's shape); exposed for fuzzing.
seq_result parse_sequenced(const response& resp);
// GET of a room's counter: its value (0 when missing), nullopt on a failure, another shape
// or a value INCR cannot reach (over 2^63 - 1).
std::optional<uint64_t> parse_last_seq(const response& resp);

// Parses an XRANGE reply of a room's stream for (after, upto]; exposed for tests and fuzzing.
range_result parse_range(const reply& r, std::string_view room, uint64_t after, uint64_t upto,
                         uint32_t max_count, size_t max_bytes);

} // namespace chat::redis
