// The state and logic of one room actor (room_actor.cpp holds its behaviour): members,
// sequencing with durable seq reservations, dedupe and cid conflicts, the replay ring,
// catch-up and history paced by each member's outbound queue, and the idle stop.
#pragma once

#include "actors/dedupe_window.hpp"
#include "actors/fifo.hpp"
#include "actors/interfaces.hpp"
#include "actors/room_directory.hpp"
#include "actors/room_ring.hpp"
#include "actors/sequencer.hpp"

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace chat {

struct node_context;
struct read_reply;
class redis_sequencer;

enum class room_phase {
  loading, // the start-up read is on its way: messages wait in `deferred`, in order
  live,
  failed,  // the start-up read failed: joins get `unavailable`, the room leaves
};

struct room_member {
  member_ref ref;
  connection_actor conn;
  bool catching_up = false; // replaying `since`: live messages reach it through the replay
};

// A member replaying missed messages, one page at a time.
struct catch_up {
  uint64_t conn = 0;
  uint64_t token = 0;  // tells replies for this catch-up from those of an earlier one
  uint64_t next = 0;   // the next seq to send
  bool reading = false;  // a store read is on its way
  bool draining = false; // waiting for the member's queue to drain
};

struct pending_send {
  uint64_t ticket = 0; // its name at the sequencer
  member_ref sender;
  bool ack_persisted = false;
  bool waited = false; // numbered later than submitted: check for a repeat again
  uint64_t text = 0;   // text_hash
  std::string rid;
  int64_t t0_ns = 0;
};

struct room_state {
  room_actor::pointer self = nullptr;
  node_context* ctx = nullptr;
  std::string name;
  room_live_ptr live;
  uint64_t name_hash = 0;
  room_phase phase = room_phase::loading;
  std::vector<std::function<void()>> deferred;

  std::vector<room_member> members;
  std::unordered_map<std::string, int> user_refs; // user -> its connections in the room
  std::unique_ptr<sequencer> seq;
  std::unique_ptr<dedupe_window> dedupe;
  std::unique_ptr<room_ring> ring;
  uint64_t persisted = 0; // messages up to this seq are committed
  uint64_t reserved = 0;  // seqs up to this are durably reserved
  uint64_t reserving = 0; // a reservation up to this is being written (0: none)
  uint64_t handed = 0;    // the newest seq handed to the store
  bool releasing = false; // giving back the unused reservation (see settle)
  // Persisted acks of repeated cids whose message is not committed yet.
  struct waiting_ack {
    uint64_t seq;
    member_ref to;
    std::string cid;
    std::string rid;
  };
  std::vector<waiting_ack> acks_waiting;
  fifo<pending_send> pending; // own messages waiting for their seq
  uint64_t tickets = 0;       // the last ticket given to the sequencer
  redis_sequencer* cluster = nullptr; // `seq` when nodes share Redis, else null
  std::vector<catch_up> catchups;
  std::vector<history_request> histories; // waiting for their member's queue to drain
  uint64_t reads = 0;      // store reads on their way (history, repeats)
  uint64_t next_token = 0;
  uint64_t handled = 0;
  std::chrono::steady_clock::time_point empty_since{};
  bool idle_armed = false;

  using frames = std::array<frame_ptr, wire_encoder::max_encoders>;

  // --- start-up and lifecycle (room_actor.cpp) ---
  void start();
  void started(read_reply& r);
  void start_failed(const std::string& why);
  void arm_idle();
  void idle_tick();
  bool idle() const;
  void settle();
  void freed();
  void stop();
  void leave_failed_room();
  void run_deferred();

  // --- live traffic (room_state.cpp) ---
  void join(join_request& req);
  void leave(member_ref& mem, bool reply, const std::string& rid);
  void send(send_request& req);
  void history(history_request& req);
  void drained(uint64_t conn);
  void persist(uint64_t seq);
  void mark(uint64_t mark);
  void deliver(chat_message&& m, uint64_t ticket);
  void refused(uint64_t ticket, chat_message&& m, sequencer::refusal why, uint64_t seq,
               const std::string& text);
  void error(const member_ref& to, error_code code, const std::string& message,
             const std::string& rid);
  uint64_t committed() const;

  // Sends one frame, encoded at most once per protocol, to every member but `skip`
  // (with `live_only`, not to members still catching up); returns the encodings made.
  template <class Encode>
  frames broadcast(Encode&& encode, uint64_t skip_conn = 0, const std::string* skip_user = nullptr,
                   bool live_only = false) {
    frames made;
    for (auto& mem : members) {
      if (mem.ref.conn == skip_conn || (skip_user && mem.ref.user == *skip_user)
          || (live_only && mem.catching_up))
        continue;
      auto& f = made[mem.ref.enc->id()];
      if (!f)
        f = encode(*mem.ref.enc);
      mem.ref.out->push(f);
    }
    return made;
  }

private:
  bool take_pending(uint64_t ticket, pending_send& out);
  void store_again(chat_message&& m, const member_ref& to, bool ack_persisted,
                   const std::string& rid);
  void remove_member(size_t index, bool reply, const std::string& rid);
  void ack_repeat(const member_ref& to, const std::string& cid, uint64_t seq,
                  const std::string& rid, bool persisted_mode);
  void repeat(send_request& req, const dedupe_window::entry& e, uint64_t text);
  void check_repeat_in_store(send_request& req, uint64_t seq, uint64_t text);
  void reserve_ahead();
  bool quiet() const;
  void replay(uint64_t conn);
  void replay_failed(uint64_t conn, uint64_t from, const std::string& why);
  void serve_history(history_request& req);
  void wait_for_drain(const member_ref& mem);
  room_member* member(uint64_t conn);
  catch_up* catching(uint64_t conn);
  uint64_t page_bytes() const;
  frame_ptr replay_frame(const member_ref& mem, const ring_entry& e) const;
};

} // namespace chat
