// A room's sequencer when nodes share Redis: seqs come from the room's sequencing script
// (net/redis/room_log), other nodes' messages from the room's channel, and everything is
// handed to the room in seq order, exactly once.
//
// Sources, all merged in `ahead_` (seq -> message) above the last delivered seq:
//  - the script's reply to an own message (the only way an own message gets its ticket);
//  - the channel (subscribed while the room has local members, see watch());
//  - gap repair: when a seq is known to exist (a later one arrived, or the counter read
//    after (re)subscribing is higher) but is missing, it is read from the room's stream,
//    then from the store; what neither holds was never handed out (a seeding jump) or is
//    lost, and is skipped.
// A message this node sequenced may arrive on the channel (or from a repair) before the
// script's reply: it is held while a submitted message with its (user, cid) awaits a
// reply. One whose reply never came (lost connection, timeout) is delivered as an
// `orphan`: stored by this node, acked to nobody (its sender retries with the same cid and
// gets its seq). Such a send also makes the room read its counter, so the seq is repaired
// from the stream even when the channel's copy was lost with the reply.
// After Redis lost the room's data, an own message whose (user, cid) Redis does not know
// is first looked up in the store (needs_check, see room_log.hpp): a retry of a message
// numbered before the loss is answered with that message's seq, never numbered again.
//
// Every Redis callback runs on the Redis client's thread and only queues an event in the
// room's redis_inbox; all state here lives on the room actor's thread.
#pragma once

#include "actors/interfaces.hpp"
#include "actors/sequencer.hpp"
#include "net/redis/room_log.hpp"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace chat {

struct node_context;
struct read_reply;

// What the Redis thread (or a store read, or a timer) learned, for the room's sequencer.
struct redis_event {
  enum class kind : uint8_t {
    reply,     // the script answered for `ticket`: `result`
    published, // a message from the channel: `msg`
    active,    // the channel subscription is (again) in place
    counter,   // the room's counter: `value` (ok: read at all)
    fetched,   // stream read for (after, upto]: `range`
    stored,    // store read for (after, upto]: `stored` (ok: read at all)
    seed,      // the seeding wait is over
    retry,     // retry the repair after a failed read
    sync_late, // redis.unavailable-timeout passed since subscribing
  } what = kind::reply;
  uint64_t ticket = 0;
  redis::seq_result result;
  redis::room_message msg;
  redis::range_result range;
  std::vector<chat_message> stored;
  uint64_t value = 0, after = 0, upto = 0;
  bool ok = false;
};

// Hand-over of a room's events from the Redis thread: the room is messaged (r_redis with
// no event) only when its inbox turns non-empty, and takes everything queued by then, so
// a burst of replies and channel messages costs one actor message, not one each. Closed
// (emptied, pushes dropped) when the room goes, or when it cannot be messaged.
class redis_inbox {
public:
  explicit redis_inbox(caf::actor_addr room) : room_(std::move(room)) {}
  void push(redis_event&& ev);
  // Swaps the queued events into `out` (empty; its capacity is reused).
  void take(std::vector<redis_event>& out);
  void close();

private:
  std::mutex mu_;
  std::vector<redis_event> items_;
  bool closed_ = false;
  const caf::actor_addr room_;
};

class redis_sequencer final : public sequencer {
public:
  redis_sequencer(node_context& ctx, room_actor::pointer self, std::string room);
  ~redis_sequencer() override;

  void start(uint64_t last_seq, sink deliver, refuse refused) override;
  void submit(chat_message&& m, uint64_t ticket) override;
  uint64_t last_seq() const override { return last_; }
  void limit(uint64_t) override {} // seqs are durable in Redis (and re-seeded from the store)
  size_t waiting() const override { return inflight_.size(); }

  // Subscribes to the room's channel (on) or leaves it (off): while the room has members.
  // After subscribing, `synced` is called once the room has caught up with Redis (every
  // seq up to the counter read after the subscription was in place delivered): until
  // then the room holds its joins, so `joined` tells a seq that is really the newest.
  // When Redis does not let it catch up within redis.unavailable-timeout, `synced` is
  // called anyway: joins go ahead with what the store knows (sends fail `unavailable`
  // meanwhile), and the missed messages follow as soon as Redis answers again.
  void watch(bool on, std::function<void()> synced = {});
  bool watching() const { return watching_; }
  void on_event(redis_event& ev);
  // The room was messaged about its inbox: handles every event queued there, in order.
  void take_inbox();
  // The same for a failed room: the events are dropped.
  void drop_inbox();

private:
  struct own {
    chat_message m;
    bool sent = false;    // with the script (not waiting for seeding or the store)
    bool checked = false; // the store does not hold its (user, cid) (after needs_check)
  };
  struct held {
    chat_message m;
    uint64_t ticket = remote;
    bool ours = false; // sequenced by this node
  };

  void send(uint64_t ticket, bool seeded);
  void read_counter();
  void retry_counter();
  void replied(uint64_t ticket, redis::seq_result& r);
  void add(chat_message&& m, uint64_t ticket, bool ours);
  bool claimed(const chat_message& m) const;
  void drain();
  void repair(uint64_t after, uint64_t upto);
  void fetched(redis_event& ev);
  void stored(redis_event& ev);
  void part_done();
  void seed();
  void check_store(uint64_t ticket);
  void check_next();
  void checked(uint64_t ticket, read_reply& r);
  void post_later(redis_event::kind k, std::chrono::milliseconds after, uint64_t value = 0);
  void sync_done();
  uint64_t skippable(uint64_t seq);

  node_context& ctx_;
  room_actor::pointer self_;
  std::string room_;
  redis::room_keys keys_; // the room's Redis keys, formatted once
  std::shared_ptr<redis_inbox> inbox_;
  std::vector<redis_event> taken_; // take_inbox()'s batch (capacity kept)
  sink deliver_;
  refuse refused_;
  std::map<uint64_t, own> inflight_; // ticket -> submitted, no answer yet
  std::map<uint64_t, held> ahead_;   // seq -> message, above last_
  std::vector<std::pair<uint64_t, uint64_t>> lost_; // seqs neither stream nor store hold
  std::vector<uint64_t> seed_wait_; // tickets waiting for seeding
  // Tickets whose cid the store is asked about, one read at a time so that they go back to
  // the script in the order they came (a sender's messages keep their order).
  std::deque<uint64_t> to_check_;
  uint64_t last_ = 0;    // delivered up to here
  uint64_t highest_ = 0; // the highest seq known to exist
  uint64_t floor_ = 0;   // from seeding: no seq at or below it may be handed out again
  uint32_t parts_ = 0;   // reads of the running repair
  std::function<void()> synced_; // set while syncing
  uint64_t sync_gen_ = 0;         // subscriptions so far (tells a late timer from a current one)
  uint64_t sync_upto_ = 0;        // 1 + the counter read after subscribing (0: not yet)
  bool seeding_ = false, watching_ = false, retry_armed_ = false, checking_ = false;
  bool counter_retry_armed_ = false;
};

} // namespace chat
