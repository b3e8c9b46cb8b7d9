// Room behaviour. The hot path (send) encodes a message once per wire protocol in use and
// pushes the same buffer into every member's outbound queue: no per-recipient allocation,
// no actor hop per delivery.
#include "actors/room_actor.hpp"

#include "actors/dedupe_window.hpp"
#include "actors/node_context.hpp"
#include "actors/persistence_pool.hpp"
#include "actors/sequencer.hpp"

#include <caf/all.hpp>

#include <array>
#include <chrono>
#include <deque>
#include <unordered_map>

namespace chat {

namespace {

struct ring_entry {
  chat_message m;
  frame_ptr native; // the frame of encoder 0, reused for replay
};

struct pending_send {
  member_ref sender;
  bool ack_persisted;
  std::string rid;
  int64_t t0_ns;
};

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

struct room_state {
  room_actor::pointer self = nullptr;
  node_context* ctx = nullptr;
  std::string name;
  std::vector<member_ref> members;
  std::unordered_map<std::string, int> user_refs; // user -> its connections in the room
  std::unique_ptr<sequencer> seq;
  std::unique_ptr<dedupe_window> dedupe;
  // The newest chat.room-ring messages, and with persistence also every message not yet
  // committed (so the ring and the store together always hold all of them; bounded by
  // storage.backlog-max, past which sends are refused).
  std::deque<ring_entry> ring;
  uint64_t persisted = 0; // messages up to this seq are committed
  // Persisted acks of repeated cids whose message is not committed yet.
  struct waiting_ack {
    uint64_t seq;
    member_ref to;
    std::string cid;
    std::string rid;
  };
  std::vector<waiting_ack> acks_waiting;
  std::deque<pending_send> pending; // own messages waiting for their seq
  uint64_t messages = 0;
  uint64_t deliveries = 0;
  uint64_t acks_seq = 0;
  uint64_t handled = 0;
  latency_histogram latency;

  using frames = std::array<frame_ptr, wire_encoder::max_encoders>;

  // Sends one frame, encoded at most once per protocol, to every member but `skip`;
  // returns the encodings made (by encoder id).
  template <class Encode>
  frames broadcast(Encode&& encode, uint64_t skip_conn = 0,
                   const std::string* skip_user = nullptr) {
    frames made;
    for (auto& mem : members) {
      if (mem.conn == skip_conn || (skip_user && mem.user == *skip_user))
        continue;
      auto& f = made[mem.enc->id()];
      if (!f)
        f = encode(*mem.enc);
      mem.out->push(f);
    }
    return made;
  }

  void replay_since(const member_ref& mem, uint64_t since) {
    if (seq->last_seq() <= since)
      return;
    // What the ring does not hold comes from the store first.
    auto first = ring.empty() ? seq->last_seq() + 1 : ring.front().m.seq;
    if (since + 1 < first && ctx->persistence)
      for (auto& m : ctx->persistence->read_since(name, since, first - 1))
        mem.out->push(mem.enc->msg(m));
    for (auto& e : ring) {
      if (e.m.seq <= since)
        continue;
      mem.out->push(mem.enc->id() == 0 && e.native ? e.native : mem.enc->msg(e.m));
    }
  }

  void deliver(chat_message&& m, bool own) {
    ++messages;
    deliveries += members.size();
    auto encoded = broadcast([&](const wire_encoder& e) { return e.msg(m); });
    dedupe->insert(m.user, m.cid, m.seq);
    if (own) {
      auto p = std::move(pending.front());
      pending.pop_front();
      if (ctx->persistence)
        ctx->persistence->store(m, p.ack_persisted ? &p.sender : nullptr, p.rid,
                                caf::actor_cast<room_actor>(self));
      if (!p.ack_persisted || !ctx->persistence) {
        ++acks_seq;
        p.sender.out->push(p.sender.enc->ack(name, m.cid, m.seq, m.ts_ms, p.rid));
      }
      if (p.t0_ns != 0)
        latency.observe(double(steady_ns() - p.t0_ns) / 1e9);
    }
    if (ctx->cfg.room_ring > 0 || ctx->persistence) {
      ring.push_back({std::move(m), encoded[0]});
      trim_ring();
    }
  }

  // The ack of a repeated cid: the original seq, and no second copy of the message.
  void ack_repeat(const member_ref& to, const std::string& cid, uint64_t seq,
                  const std::string& rid, bool persisted_mode) {
    to.out->push(to.enc->ack(name, cid, seq, now_ms(), rid));
    if (persisted_mode && ctx->persistence)
      ctx->persistence->count_persisted_ack();
    else
      ++acks_seq;
  }

  void trim_ring() {
    while (ring.size() > ctx->cfg.room_ring
           && (!ctx->persistence || ring.front().m.seq <= persisted))
      ring.pop_front();
  }

  void history(const history_request& req) {
    std::vector<chat_message> from_store;
    std::vector<const chat_message*> out;
    uint64_t before = req.before == 0 ? UINT64_MAX : req.before;
    // Newest `limit` messages below `before`, collected newest first, then reversed.
    for (auto i = ring.rbegin(); i != ring.rend() && out.size() < req.limit; ++i)
      if (i->m.seq < before)
        out.push_back(&i->m);
    uint64_t oldest = out.empty() ? std::min(before, seq->last_seq() + 1) : out.back()->seq;
    if (out.size() < req.limit && oldest > 1 && ctx->persistence) {
      from_store = ctx->persistence->read_history(name, oldest, uint32_t(req.limit - out.size()));
      for (auto i = from_store.rbegin(); i != from_store.rend(); ++i)
        out.push_back(&*i);
    }
    std::reverse(out.begin(), out.end());
    req.member.out->push(req.member.enc->history(name, out, req.rid));
  }
};

using room_pointer = room_actor::stateful_pointer<room_state>;

room_actor::behavior_type room_impl(room_pointer self, node_context* ctx, std::string name) {
  auto& st = self->state;
  st.self = self;
  st.ctx = ctx;
  st.name = std::move(name);
  st.dedupe = std::make_unique<dedupe_window>(ctx->cfg.dedupe_window);
  st.seq = std::make_unique<local_sequencer>();
  uint64_t last = 0;
  if (ctx->persistence) {
    auto recent = ctx->persistence->read_recent(st.name, std::max(ctx->cfg.room_ring,
                                                                   ctx->cfg.dedupe_window));
    last = ctx->persistence->last_seq(st.name);
    size_t skip = recent.size() > ctx->cfg.room_ring ? recent.size() - ctx->cfg.room_ring : 0;
    for (size_t i = 0; i < recent.size(); ++i) {
      st.dedupe->insert(recent[i].user, recent[i].cid, recent[i].seq);
      if (i >= skip)
        st.ring.push_back({std::move(recent[i]), nullptr});
    }
  }
  st.persisted = last;
  st.seq->start(last, [self](chat_message&& m, bool own) {
    self->state.deliver(std::move(m), own);
  });
  return {
    [self](r_join_atom, join_request& req) {
      ++self->state.handled;
      auto& st = self->state;
      auto& mem = req.member;
      bool first = st.user_refs[mem.user]++ == 0;
      mem.out->push(mem.enc->joined(st.name, st.seq->last_seq(), req.rid));
      if (req.has_since)
        st.replay_since(mem, req.since);
      if (first) {
        st.broadcast([&](const wire_encoder& e) { return e.member(st.name, mem.user, true); });
        st.broadcast([&](const wire_encoder& e) { return e.presence(mem.user, true); });
      }
      st.members.push_back(std::move(mem));
    },
    [self](r_leave_atom, member_ref& mem, bool reply, std::string& rid) {
      ++self->state.handled;
      auto& st = self->state;
      auto i = std::find_if(st.members.begin(), st.members.end(),
                            [&](const member_ref& m) { return m.conn == mem.conn; });
      if (i != st.members.end()) {
        *i = std::move(st.members.back());
        st.members.pop_back();
        if (--st.user_refs[mem.user] == 0) {
          st.user_refs.erase(mem.user);
          st.broadcast([&](const wire_encoder& e) { return e.member(st.name, mem.user, false); });
        }
      }
      if (reply)
        mem.out->push(mem.enc->left(st.name, rid));
    },
    [self](r_send_atom, send_request& req) {
      ++self->state.handled;
      auto& st = self->state;
      if (auto seq = st.dedupe->find(req.sender.user, req.cid); seq != 0) {
        if (req.ack_persisted && st.ctx->persistence && seq > st.persisted)
          st.acks_waiting.push_back({seq, std::move(req.sender), std::move(req.cid),
                                     std::move(req.rid)});
        else
          st.ack_repeat(req.sender, req.cid, seq, req.rid, req.ack_persisted);
        return;
      }
      chat_message m{st.name, 0, req.sender.user, std::move(req.cid), std::move(req.text),
                     now_ms()};
      st.pending.push_back({std::move(req.sender), req.ack_persisted, std::move(req.rid),
                            req.t0_ns});
      st.seq->submit(std::move(m));
    },
    [self](r_hist_atom, history_request& req) {
      ++self->state.handled;
      self->state.history(req);
    },
    [self](r_typing_atom, uint64_t conn, std::string& user) {
      ++self->state.handled;
      auto& st = self->state;
      st.broadcast([&](const wire_encoder& e) { return e.typing(st.name, user); }, conn, &user);
    },
    [self](r_read_atom, uint64_t conn, std::string& user, uint64_t seq) {
      ++self->state.handled;
      auto& st = self->state;
      // Nobody can have read past the newest message: such a mark goes out as the last seq.
      seq = std::min(seq, st.seq->last_seq());
      st.broadcast([&](const wire_encoder& e) { return e.read(st.name, user, seq); }, conn,
                   &user);
    },
    [self](r_pres_atom, std::string& user, bool online) {
      ++self->state.handled;
      auto& st = self->state;
      st.broadcast([&](const wire_encoder& e) { return e.presence(user, online); }, 0, &user);
    },
    [self](r_persist_atom, uint64_t seq) {
      auto& st = self->state;
      st.persisted = std::max(st.persisted, seq);
      st.trim_ring();
      auto committed = [&](const room_state::waiting_ack& w) { return w.seq <= st.persisted; };
      for (auto& w : st.acks_waiting)
        if (committed(w))
          st.ack_repeat(w.to, w.cid, w.seq, w.rid, true);
      st.acks_waiting.erase(
        std::remove_if(st.acks_waiting.begin(), st.acks_waiting.end(), committed),
        st.acks_waiting.end());
    },
    [self](r_stats_atom, bool with_members) {
      auto& st = self->state;
      room_stats out;
      out.room = st.name;
      out.members = st.members.size();
      out.last_seq = st.seq->last_seq();
      out.messages = st.messages;
      out.deliveries = st.deliveries;
      out.acks_seq = st.acks_seq;
      out.handled = st.handled;
      out.mailbox = self->mailbox().size();
      out.latency = st.latency;
      if (with_members)
        for (auto& m : st.members)
          out.member_list.push_back({m.user, m.conn});
      return out;
    },
  };
}

} // namespace

room_actor spawn_room(node_context& ctx, const std::string& name) {
  return ctx.sys.spawn(room_impl, &ctx, name);
}

} // namespace chat
