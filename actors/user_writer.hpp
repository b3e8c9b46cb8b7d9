// The writer of user state: online flags and last-seen, and the access log. Updates are
// coalesced (the latest flag per user wins) and written every 100 ms, retried on failure.
#pragma once

#include "storage/message_store.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include <atomic>
#include <memory>

namespace chat {

using u_online_atom = caf::atom_constant<caf::atom("u_online")>;
using u_access_atom = caf::atom_constant<caf::atom("u_access")>;

// Understands (u_online, user, bool, ts_ms), (u_access, access_entry) and
// (w_flush, deadline in steady-clock ns) -> bool, which writes everything pending (retrying
// until the deadline) before it answers. While the store
// fails, at most `log_max` access-log entries wait; past that the oldest are dropped and
// counted in `dropped`.
caf::actor spawn_user_writer(caf::actor_system& sys, std::unique_ptr<storage::user_store> store,
                             size_t log_max, std::shared_ptr<std::atomic<uint64_t>> dropped);

} // namespace chat

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::storage::access_entry)
