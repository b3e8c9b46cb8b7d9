// A room's live traffic. The hot path (send -> deliver) encodes a message once per wire
// protocol in use and pushes the same buffer into every live member's outbound queue: no
// per-recipient allocation, no actor hop per delivery. Catch-up and history are paged by
// bytes and paced by each member's queue (outbound::when_drained), so a replay of any
// length never outgrows net.queue-bytes; what the ring no longer holds is read from the
// store in pages, off this actor's thread (store_readers).
#include "actors/room_state.hpp"

#include "actors/node_context.hpp"
#include "actors/persistence_pool.hpp"
#include "actors/redis_sequencer.hpp"
#include "actors/store_readers.hpp"
#include "config/log.hpp"

#include <caf/all.hpp>

#include <algorithm>

namespace chat {

namespace {

// History requests of one room waiting for their members' queues to drain.
constexpr size_t max_waiting_histories = 64;
// Messages per replay read (also bounded by a page's bytes).
constexpr uint32_t replay_rows = 500;

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

} // namespace

uint64_t room_state::committed() const {
  return ctx->persistence ? persisted : UINT64_MAX;
}

uint64_t room_state::page_bytes() const {
  return std::max<uint64_t>(ctx->cfg.queue_bytes / 4, 1);
}

room_member* room_state::member(uint64_t conn) {
  for (auto& m : members)
    if (m.ref.conn == conn)
      return &m;
  return nullptr;
}

catch_up* room_state::catching(uint64_t conn) {
  for (auto& c : catchups)
    if (c.conn == conn)
      return &c;
  return nullptr;
}

void room_state::error(const member_ref& to, error_code code, const std::string& message,
                       const std::string& rid) {
  ctx->counters.errors[size_t(code)].fetch_add(1, std::memory_order_relaxed);
  to.out->push(to.enc->error(code, message, rid));
}

void room_state::join(join_request& req) {
  auto& mem = req.member;
  bool first = user_refs[mem.user]++ == 0;
  uint64_t last = seq->last_seq();
  mem.out->push(mem.enc->joined(name, last, req.rid));
  if (first) {
    broadcast([&](const wire_encoder& e) { return e.member(name, mem.user, true); });
    broadcast([&](const wire_encoder& e) { return e.presence(mem.user, true); });
    if (cluster) // members on other nodes hear it through Redis
      self->send(ctx->presence, p_member_atom::value, mem.user, name, true);
  }
  bool behind = req.has_since && req.since < last;
  uint64_t conn = mem.conn;
  members.push_back({std::move(mem), std::move(req.conn), behind});
  live->members.store(members.size(), std::memory_order_relaxed);
  if (behind) {
    catchups.push_back({conn, ++next_token, req.since + 1});
    replay(conn);
  }
}

void room_state::leave(member_ref& mem, bool reply, const std::string& rid) {
  for (size_t i = 0; i < members.size(); ++i)
    if (members[i].ref.conn == mem.conn) {
      remove_member(i, reply, rid);
      return;
    }
  if (reply)
    mem.out->push(mem.enc->left(name, rid));
}

void room_state::remove_member(size_t index, bool reply, const std::string& rid) {
  auto ref = std::move(members[index].ref);
  members[index] = std::move(members.back());
  members.pop_back();
  live->members.store(members.size(), std::memory_order_relaxed);
  catchups.erase(std::remove_if(catchups.begin(), catchups.end(),
                                [&](const catch_up& c) { return c.conn == ref.conn; }),
                 catchups.end());
  histories.erase(std::remove_if(histories.begin(), histories.end(),
                                 [&](const history_request& h) { return h.member.conn == ref.conn; }),
                  histories.end());
  auto refs = user_refs.find(ref.user);
  if (refs != user_refs.end() && --refs->second == 0) {
    user_refs.erase(refs);
    broadcast([&](const wire_encoder& e) { return e.member(name, ref.user, false); });
    if (cluster)
      self->send(ctx->presence, p_member_atom::value, ref.user, name, false);
  }
  if (reply)
    ref.out->push(ref.enc->left(name, rid));
  if (members.empty()) {
    if (cluster)
      cluster->watch(false);
    arm_idle();
  }
}

void room_state::send(send_request& req) {
  uint64_t text = text_hash(req.text);
  if (auto e = dedupe->find(req.sender.user, req.cid); e.seq != 0) {
    if (cluster && ctx->persistence && e.text == text) {
      store_again({name, e.seq, req.sender.user, std::move(req.cid), std::move(req.text),
                   now_ms()},
                  req.sender, req.ack_persisted, req.rid);
      return;
    }
    repeat(req, e, text);
    return;
  }
  if (ctx->cids.claim(req.sender.user, req.cid, name_hash, text) == cid_index::verdict::conflict) {
    ctx->counters.cid_conflicts.fetch_add(1, std::memory_order_relaxed);
    error(req.sender, error_code::conflict,
          "cid '" + req.cid + "' was already used by '" + req.sender.user
            + "' for another message; cids must be unique per user",
          req.rid);
    return;
  }
  if (seq->waiting() >= ctx->cfg.seq_block) {
    error(req.sender, error_code::unavailable,
          "room '" + name + "' is waiting for the store to reserve seqs; retry later", req.rid);
    return;
  }
  chat_message m{name, 0, req.sender.user, std::move(req.cid), std::move(req.text), now_ms()};
  uint64_t ticket = ++tickets;
  pending.push_back({ticket, std::move(req.sender), req.ack_persisted, false, text,
                     std::move(req.rid), req.t0_ns});
  seq->submit(std::move(m), ticket);
  // Not numbered at once: a repeat may be submitted before it is, so check again then.
  if (!pending.empty() && pending.back().ticket == ticket)
    pending.back().waited = true;
  reserve_ahead();
}

void room_state::repeat(send_request& req, const dedupe_window::entry& e, uint64_t text) {
  if (e.text == 0) {
    // Loaded from the store without its text: compare with the ring or the store.
    auto i = ring->lower_bound(e.seq);
    if (i < ring->size() && (*ring)[i].m.seq == e.seq) {
      repeat(req, {e.seq, text_hash((*ring)[i].m.text)}, text);
      return;
    }
    check_repeat_in_store(req, e.seq, text);
    return;
  }
  if (e.text != text) {
    ctx->counters.cid_conflicts.fetch_add(1, std::memory_order_relaxed);
    error(req.sender, error_code::conflict,
          "cid '" + req.cid + "' already names message " + std::to_string(e.seq)
            + " of this room with another text; cids must be unique per user",
          req.rid);
    return;
  }
  if (req.ack_persisted && ctx->persistence && e.seq > persisted) {
    // Bounded: repeats of messages the store has not taken yet wait for it.
    if (acks_waiting.size() >= ctx->cfg.seq_block)
      error(req.sender, error_code::unavailable,
            "too many repeated sends wait for the store; retry later", req.rid);
    else
      acks_waiting.push_back(
        {e.seq, std::move(req.sender), std::move(req.cid), std::move(req.rid)});
  } else {
    ack_repeat(req.sender, req.cid, e.seq, req.rid, req.ack_persisted);
  }
}

void room_state::check_repeat_in_store(send_request& req, uint64_t seq_no, uint64_t text) {
  auto reader = ctx->readers ? ctx->readers->acquire() : caf::actor{};
  if (!reader) {
    error(req.sender, error_code::unavailable, "store busy; retry later", req.rid);
    return;
  }
  ++reads;
  self->request(reader, ctx->cfg.read_timeout, rd_one_atom::value, name, seq_no)
    .then(
      [this, req, seq_no, text](read_reply& r) mutable {
        --reads;
        if (!r.ok) {
          error(req.sender, error_code::unavailable, "store read failed: " + r.error, req.rid);
          return;
        }
        // A pruned original cannot be compared: the repeat is acked as before.
        uint64_t stored = r.messages.empty() ? text : text_hash(r.messages.front().text);
        repeat(req, {seq_no, stored}, text);
      },
      [this, req](caf::error& e) mutable {
        --reads;
        ctx->counters.store_read_failures.fetch_add(1, std::memory_order_relaxed);
        error(req.sender, error_code::unavailable,
              "store read failed: " + caf::to_string(e), req.rid);
      });
}

void room_state::ack_repeat(const member_ref& to, const std::string& cid, uint64_t seq_no,
                            const std::string& rid, bool persisted_mode) {
  to.out->push(to.enc->ack(name, cid, seq_no, now_ms(), rid));
  if (persisted_mode && ctx->persistence) {
    ctx->persistence->count_persisted_ack();
  } else {
    bump(live->acks_seq);
    ctx->counters.traffic.ack_seq();
  }
}

void room_state::reserve_ahead() {
  if (!ctx->persistence || cluster || reserving != 0)
    return;
  uint64_t block = ctx->cfg.seq_block;
  uint64_t used = seq->last_seq() + seq->waiting();
  if (reserved >= used + (block + 1) / 2)
    return;
  reserving = std::max(reserved, seq->last_seq()) + block; // >= used: waiting <= block
  ctx->persistence->reserve(caf::actor_cast<room_actor>(self), name, reserving);
}

void room_state::mark(uint64_t upto) {
  reserved = std::max(reserved, upto);
  if (upto >= reserving)
    reserving = 0;
  seq->limit(reserved);
  reserve_ahead();
}

void room_state::persist(uint64_t seq_no) {
  persisted = std::max(persisted, seq_no);
  ring->trim(committed());
  auto done = [&](const waiting_ack& w) { return w.seq <= persisted; };
  for (auto& w : acks_waiting)
    if (done(w))
      ack_repeat(w.to, w.cid, w.seq, w.rid, true);
  acks_waiting.erase(std::remove_if(acks_waiting.begin(), acks_waiting.end(), done),
                     acks_waiting.end());
}

// The pending send a ticket names: the oldest one, but for a sequencer that answers out of
// submission order (Redis: repeats, failures, seeding).
bool room_state::take_pending(uint64_t ticket, pending_send& out) {
  for (size_t i = 0; i < pending.size(); ++i) {
    if (pending[i].ticket != ticket)
      continue;
    out = std::move(pending[i]);
    if (i == 0)
      pending.pop_front();
    else
      pending.erase(i);
    return true;
  }
  return false;
}

// A repeat of a message another node sequenced: that node may have died before storing it
// (its sender then retries here), so it is stored again under its seq — the store ignores
// a seq it holds — and acked as an own message is.
void room_state::store_again(chat_message&& m, const member_ref& to, bool ack_persisted,
                             const std::string& rid) {
  ctx->persistence->store(m, ack_persisted ? &to : nullptr, rid,
                          caf::actor_cast<room_actor>(self));
  if (!ack_persisted)
    ack_repeat(to, m.cid, m.seq, rid, false);
}

void room_state::refused(uint64_t ticket, chat_message&& m, sequencer::refusal why,
                         uint64_t at, const std::string& text) {
  pending_send p;
  if (!take_pending(ticket, p))
    return;
  switch (why) {
    case sequencer::refusal::duplicate:
      if (ctx->persistence) {
        m.seq = at;
        store_again(std::move(m), p.sender, p.ack_persisted, p.rid);
        return;
      }
      [[fallthrough]];
    case sequencer::refusal::conflict: {
      // Found cluster-wide: the original's text is unknown here when it conflicts. The
      // refused text leaves the node's cid index, so a retry of the original is not
      // answered `conflict` by it.
      if (why == sequencer::refusal::conflict)
        ctx->cids.release(m.user, m.cid, name_hash, p.text);
      uint64_t original = why == sequencer::refusal::duplicate ? p.text : p.text + 1;
      send_request again{std::move(p.sender), std::move(m.cid), {}, p.ack_persisted,
                         std::move(p.rid), 0};
      repeat(again, {at, original}, p.text);
      return;
    }
    case sequencer::refusal::unavailable:
      error(p.sender, error_code::unavailable, text, p.rid);
      return;
  }
}

void room_state::deliver(chat_message&& m, uint64_t ticket) {
  bool own = ticket != sequencer::remote && ticket != sequencer::orphan;
  pending_send p;
  uint64_t text;
  if (own && !take_pending(ticket, p))
    own = false; // cannot happen: every ticket is pending until delivered or refused
  if (own) {
    text = p.text;
    // (With Redis the cluster-wide dedupe ran in the script, and the message went out to
    // every node: it is delivered here too.)
    if (p.waited && !cluster) {
      if (auto e = dedupe->find(m.user, m.cid); e.seq != 0) {
        // Its original was numbered first: this seq stays unused (a gap), never a copy.
        send_request again{std::move(p.sender), std::move(m.cid), {}, p.ack_persisted,
                           std::move(p.rid), 0};
        repeat(again, e, text);
        return;
      }
    }
  } else {
    text = text_hash(m.text);
  }
  size_t reached = members.size() - catchups.size();
  auto encoded = broadcast([&](const wire_encoder& e) { return e.msg(m); }, 0, nullptr, true);
  dedupe->insert(m.user, m.cid, m.seq, text);
  ctx->counters.traffic.message(reached);
  bump(live->messages);
  bump(live->deliveries, reached);
  live->last_seq.store(m.seq, std::memory_order_relaxed);
  if (own) {
    if (ctx->persistence) {
      ctx->persistence->store(m, p.ack_persisted ? &p.sender : nullptr, p.rid,
                              caf::actor_cast<room_actor>(self));
      handed = m.seq;
    }
    if (!p.ack_persisted || !ctx->persistence) {
      bump(live->acks_seq);
      ctx->counters.traffic.ack_seq();
      p.sender.out->push(p.sender.enc->ack(name, m.cid, m.seq, m.ts_ms, p.rid));
    }
    if (p.t0_ns != 0)
      ctx->counters.traffic.latency(double(steady_ns() - p.t0_ns) / 1e9);
  } else if (ticket == sequencer::orphan && ctx->persistence) {
    ctx->persistence->store(m, nullptr, {}, caf::actor_cast<room_actor>(self));
    handed = m.seq;
  } else if (cluster && persisted >= handed) {
    // Another node stores it: nothing of this node's own waits below it.
    persisted = handed = m.seq;
  }
  if (ctx->cfg.room_ring > 0 || ctx->persistence) {
    ring->push(std::move(m), encoded[0]);
    ring->trim(committed());
  }
}

// --- pacing ----------------------------------------------------------------------------

void room_state::wait_for_drain(const member_ref& mem) {
  mem.out->when_drained(page_bytes(), [room = caf::actor_cast<room_actor>(self), conn = mem.conn] {
    caf::anon_send(room, r_drain_atom::value, conn);
  });
}

void room_state::drained(uint64_t conn) {
  if (auto* c = catching(conn)) {
    c->draining = false;
    replay(conn);
  }
  for (size_t i = 0; i < histories.size();) {
    if (histories[i].member.conn != conn) {
      ++i;
      continue;
    }
    if (histories[i].member.out->queued_bytes() > page_bytes()) {
      wait_for_drain(histories[i].member);
      return;
    }
    auto req = std::move(histories[i]);
    histories.erase(histories.begin() + long(i));
    serve_history(req);
  }
}

frame_ptr room_state::replay_frame(const member_ref& mem, const ring_entry& e) const {
  return mem.enc->id() == 0 && e.native ? e.native : mem.enc->msg(e.m);
}

// Sends the next pages of a member's catch-up until its queue holds a page, the ring runs
// out (then the store is asked for the next page) or it has caught up (then it is live).
void room_state::replay(uint64_t conn) {
  auto* c = catching(conn);
  auto* mem = member(conn);
  if (!c || !mem || c->reading || c->draining)
    return;
  auto& out = *mem->ref.out;
  uint64_t page = page_bytes();
  for (;;) {
    uint64_t last = seq->last_seq();
    if (c->next > last) {
      mem->catching_up = false;
      catchups.erase(catchups.begin() + (c - catchups.data()));
      return;
    }
    if (out.queued_bytes() > page) {
      c->draining = true;
      wait_for_drain(mem->ref);
      return;
    }
    if (!ring->empty() && ring->first_seq() <= c->next) {
      size_t i = ring->lower_bound(c->next);
      if (i == ring->size()) {
        c->next = last + 1; // past the ring's newest message only unused seqs remain
        continue;
      }
      for (uint64_t bytes = 0; i < ring->size() && bytes < page; ++i) {
        auto f = replay_frame(mem->ref, (*ring)[i]);
        bytes += f->size();
        out.push(std::move(f));
        c->next = (*ring)[i].m.seq + 1;
      }
      continue; // caught up to the ring's end (the newest message) or a page is out
    }
    // Below the ring: committed messages, in the store (or lost in a crash: a gap).
    uint64_t upto = ring->empty() ? last : ring->first_seq() - 1;
    auto reader = ctx->readers ? ctx->readers->acquire() : caf::actor{};
    if (!ctx->readers) {
      c->next = upto + 1;
      continue;
    }
    if (!reader) {
      replay_failed(conn, c->next, "store busy");
      return;
    }
    c->reading = true;
    uint64_t from = c->next;
    self
      ->request(reader, ctx->cfg.read_timeout, rd_since_atom::value, name, from - 1, upto,
                replay_rows, page)
      .then(
        [this, conn, token = c->token, from, upto](read_reply& r) {
          auto* c = catching(conn);
          auto* mem = member(conn);
          if (!c || c->token != token || !mem)
            return;
          c->reading = false;
          if (!r.ok) {
            replay_failed(conn, from, r.error);
            return;
          }
          for (auto& m : r.messages) {
            mem->ref.out->push(mem->ref.enc->msg(m));
            c->next = m.seq + 1;
          }
          if (r.messages.empty())
            c->next = upto + 1; // nothing stored there: lost in a crash, a gap
          replay(conn);
        },
        [this, conn, token = c->token, from](caf::error& e) {
          auto* c = catching(conn);
          if (!c || c->token != token)
            return;
          c->reading = false;
          ctx->counters.store_read_failures.fetch_add(1, std::memory_order_relaxed);
          replay_failed(conn, from, caf::to_string(e));
        });
    return;
  }
}

// A replay that cannot continue is never cut short in silence: the member is told, is
// no longer a member (so its client joins again with since), and its connection forgets
// the room.
void room_state::replay_failed(uint64_t conn, uint64_t from, const std::string& why) {
  for (size_t i = 0; i < members.size(); ++i) {
    if (members[i].ref.conn != conn)
      continue;
    CHAT_LOG_LIMITED(spdlog::level::warn, "room '{}': replay from seq {} failed: {}", name,
                     from, why);
    // The connection hears it first: it forgets the room before its client can react.
    caf::anon_send(members[i].conn, c_gone_atom::value, name, self->address());
    error(members[i].ref, error_code::unavailable,
          "replay of room '" + name + "' from seq " + std::to_string(from) + " failed (" + why
            + "); join again with since=" + std::to_string(from - 1),
          {});
    remove_member(i, false, {});
    return;
  }
}

void room_state::history(history_request& req) {
  if (req.member.out->queued_bytes() > page_bytes()) {
    if (histories.size() >= max_waiting_histories) {
      error(req.member, error_code::rate_limited,
            "too many history requests of room '" + name + "' wait for slow connections",
            req.rid);
      return;
    }
    histories.push_back(std::move(req));
    wait_for_drain(histories.back().member);
    return;
  }
  serve_history(req);
}

// The newest `limit` messages below `before`, at most about a page of bytes (a client
// pages on with `before` until an empty list): from the ring, then the store.
void room_state::serve_history(history_request& req) {
  uint64_t before = req.before == 0 ? UINT64_MAX : req.before;
  uint64_t cap = page_bytes();
  std::vector<const chat_message*> out; // newest first
  uint64_t bytes = 0;
  for (size_t i = ring->lower_bound(before); i > 0 && out.size() < req.limit
                                             && (bytes < cap || out.empty());) {
    --i;
    out.push_back(&(*ring)[i].m);
    bytes += message_footprint((*ring)[i].m);
  }
  uint64_t below = out.empty() ? std::min(before, ring->empty() ? seq->last_seq() + 1
                                                                : ring->first_seq())
                               : out.back()->seq;
  if (out.size() >= req.limit || bytes >= cap || below <= 1 || !ctx->readers) {
    std::reverse(out.begin(), out.end());
    req.member.out->push(req.member.enc->history(name, out, req.rid));
    return;
  }
  auto reader = ctx->readers->acquire();
  if (!reader) {
    error(req.member, error_code::unavailable, "store busy; retry later", req.rid);
    return;
  }
  std::vector<chat_message> from_ring;
  for (auto i = out.rbegin(); i != out.rend(); ++i)
    from_ring.push_back(**i);
  ++reads;
  self
    ->request(reader, ctx->cfg.read_timeout, rd_hist_atom::value, name, below,
              uint32_t(req.limit - out.size()), cap - std::min(cap - 1, bytes))
    .then(
      [this, req, from_ring = std::move(from_ring)](read_reply& r) {
        --reads;
        if (!r.ok) {
          error(req.member, error_code::unavailable,
                "history of room '" + name + "' is unavailable: " + r.error, req.rid);
          return;
        }
        std::vector<const chat_message*> all;
        for (auto& m : r.messages)
          all.push_back(&m);
        for (auto& m : from_ring)
          all.push_back(&m);
        req.member.out->push(req.member.enc->history(name, all, req.rid));
      },
      [this, req](caf::error& e) {
        --reads;
        ctx->counters.store_read_failures.fetch_add(1, std::memory_order_relaxed);
        CHAT_LOG_LIMITED(spdlog::level::warn, "room '{}': history read failed: {}", name,
                         caf::to_string(e));
        error(req.member, error_code::unavailable,
              "history of room '" + name + "' is unavailable: " + caf::to_string(e), req.rid);
      });
}

} // namespace chat
