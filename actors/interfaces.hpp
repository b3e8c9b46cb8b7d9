// Typed actor interfaces of the node and the messages between them, declared once.
// Messages stay inside one process, so structs are allowed as unsafe message types.
#pragma once

#include "actors/stats.hpp"
#include "actors/wire.hpp"

#include <caf/atom.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

namespace chat {

// Our atoms carry a prefix so they never collide with CAF's own (join_atom, get_atom, ...).
using c_cmds_atom = caf::atom_constant<caf::atom("c_cmds")>;
using c_closed_atom = caf::atom_constant<caf::atom("c_closed")>;
using c_expire_atom = caf::atom_constant<caf::atom("c_expire")>;
using c_resume_atom = caf::atom_constant<caf::atom("c_resume")>;
using r_join_atom = caf::atom_constant<caf::atom("r_join")>;
using r_leave_atom = caf::atom_constant<caf::atom("r_leave")>;
using r_send_atom = caf::atom_constant<caf::atom("r_send")>;
using r_hist_atom = caf::atom_constant<caf::atom("r_hist")>;
using r_typing_atom = caf::atom_constant<caf::atom("r_typing")>;
using r_read_atom = caf::atom_constant<caf::atom("r_read")>;
using r_pres_atom = caf::atom_constant<caf::atom("r_pres")>;
using r_persist_atom = caf::atom_constant<caf::atom("r_persist")>;
using r_mark_atom = caf::atom_constant<caf::atom("r_mark")>;
using r_freed_atom = caf::atom_constant<caf::atom("r_freed")>;
using r_idle_atom = caf::atom_constant<caf::atom("r_idle")>;
using r_stop_atom = caf::atom_constant<caf::atom("r_stop")>;
using r_drain_atom = caf::atom_constant<caf::atom("r_drain")>;
using r_redis_atom = caf::atom_constant<caf::atom("r_redis")>;
using c_gone_atom = caf::atom_constant<caf::atom("c_gone")>;
using r_stats_atom = caf::atom_constant<caf::atom("r_stats")>;
using c_stats_atom = caf::atom_constant<caf::atom("c_stats")>;
using p_users_atom = caf::atom_constant<caf::atom("p_users")>;
using p_attach_atom = caf::atom_constant<caf::atom("p_attach")>;
using p_detach_atom = caf::atom_constant<caf::atom("p_detach")>;
using p_query_atom = caf::atom_constant<caf::atom("p_query")>;
using p_member_atom = caf::atom_constant<caf::atom("p_member")>;
using p_remote_atom = caf::atom_constant<caf::atom("p_remote")>;
using w_store_atom = caf::atom_constant<caf::atom("w_store")>;
using w_flush_atom = caf::atom_constant<caf::atom("w_flush")>;
using w_tick_atom = caf::atom_constant<caf::atom("w_tick")>;

// What the Redis layer tells a room's sequencer (actors/redis_sequencer.hpp).
struct redis_event;
using redis_event_ptr = std::shared_ptr<redis_event>;

// Where a room sends what belongs to one member connection.
struct member_ref {
  uint64_t conn = 0;
  std::string user;
  outbound_ptr out;
  const wire_encoder* enc = nullptr;
};

using connection_actor = caf::typed_actor<
  caf::reacts_to<c_cmds_atom, std::vector<command>, uint32_t>, // commands, control frames
  caf::reacts_to<c_closed_atom, std::string>, // reason
  // The room (name, actor) dropped this connection: its start-up or a replay failed.
  caf::reacts_to<c_gone_atom, std::string, caf::actor_addr>,
  caf::reacts_to<c_expire_atom>, // the access token's expiry may have come
  // A Socket.IO client recovered this connection with a CONNECT whose token expires then
  // (seconds since the epoch; 0: anonymous).
  caf::reacts_to<c_resume_atom, int64_t>,
  caf::replies_to<c_stats_atom>::with<connection_stats>>;

struct join_request {
  member_ref member;
  connection_actor conn; // told (c_gone) when the join cannot be served
  bool has_since = false;
  uint64_t since = 0;
  std::string rid;
};

struct send_request {
  member_ref sender;
  std::string cid;
  std::string text;
  bool ack_persisted = false;
  std::string rid;
  int64_t t0_ns = 0; // steady clock when the session read the frame
};

struct history_request {
  member_ref member;
  uint64_t before = 0; // 0: the newest
  uint32_t limit = 50;
  std::string rid;
};

using room_actor = caf::typed_actor<
  caf::reacts_to<r_join_atom, join_request>,
  caf::reacts_to<r_leave_atom, member_ref, bool, std::string>, // member, reply?, rid
  caf::reacts_to<r_send_atom, send_request>,
  caf::reacts_to<r_hist_atom, history_request>,
  caf::reacts_to<r_typing_atom, uint64_t, std::string>,           // conn, user
  caf::reacts_to<r_read_atom, uint64_t, std::string, uint64_t>,   // conn, user, seq
  caf::reacts_to<r_pres_atom, std::string, bool>,                 // user, online
  caf::reacts_to<r_persist_atom, uint64_t>, // the room's messages up to seq are committed
  caf::reacts_to<r_mark_atom, uint64_t>,    // the room's seq reservation up to seq is durable
  caf::reacts_to<r_freed_atom>,             // its unused reservation was given back
  caf::reacts_to<r_idle_atom, uint64_t>,    // the idle timer of this generation expired
  caf::reacts_to<r_stop_atom>,              // node shutdown: stop after what is queued
  caf::reacts_to<r_drain_atom, uint64_t>,   // this connection's queue drained (pacing)
  caf::reacts_to<r_redis_atom, redis_event_ptr>, // for its Redis sequencer (null: take its inbox)
  caf::replies_to<r_stats_atom, bool>::with<room_stats>>; // bool: with the member list

using presence_map = std::map<std::string, bool>; // user -> online

using user_counts = std::map<std::string, uint32_t>; // online user -> its connections

struct presence_stats {
  user_counts users;
  uint64_t handled = 0;
  uint64_t mailbox = 0;
};

using presence_actor = caf::typed_actor<
  caf::reacts_to<p_attach_atom, std::string>,                           // user
  // user, its rooms (handles, names)
  caf::reacts_to<p_detach_atom, std::string, std::vector<room_actor>, std::vector<std::string>>,
  // With Redis: a room's first join by the user on this node (true) / its last leave.
  caf::reacts_to<p_member_atom, std::string, std::string, bool>, // user, room, joined
  // With Redis: a presence event for the members of these rooms here (user, online, rooms).
  caf::reacts_to<p_remote_atom, std::string, bool, std::vector<std::string>>,
  caf::replies_to<p_query_atom, std::vector<std::string>>::with<presence_map>,
  caf::replies_to<p_users_atom>::with<presence_stats>>;

} // namespace chat

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::member_ref)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::join_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::send_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::history_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::room_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::connection_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::presence_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::command)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<chat::command>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<chat::room_actor>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::presence_map)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::redis_event_ptr)
