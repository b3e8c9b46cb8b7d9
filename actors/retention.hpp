// Retention: a detached actor with its own store connections that prunes, every
// storage.prune-interval, access-log rows older than storage.access-log-retention, users
// that are offline and unseen for storage.user-retention, and (when chat.retention is
// set) messages older than that. It deletes storage.prune-batch rows per transaction with
// a short pause between batches, so the writers are never held up for long.
#pragma once

#include "actors/stats.hpp"
#include "config/node_config.hpp"
#include "storage/message_store.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>

namespace chat {

caf::actor spawn_retention(caf::actor_system& sys, const config::node_config& cfg,
                           std::unique_ptr<storage::message_store> messages,
                           std::unique_ptr<storage::user_store> users,
                           node_counters& counters); // pruned, prune_failures

} // namespace chat
