// Mapping of the node's [redis] configuration onto the Redis layer's settings.
#include "net/redis/settings.hpp"

#include <algorithm>

namespace chat::redis {

std::string from_config(const config::node_config& cfg, settings& out) {
  config::redis_uri uri;
  auto err = config::parse_redis_uri(cfg.redis_uri, uri);
  if (!err.empty())
    return "redis.uri: " + err;
  settings s;
  s.seeds = uri.hosts;
  s.cluster = uri.cluster || cfg.redis_cluster;
  s.user = uri.user;
  s.password = uri.password;
  s.db = uri.db;
  s.connect_timeout = cfg.redis_connect_timeout;
  s.command_timeout = cfg.redis_command_timeout;
  s.unavailable_timeout = cfg.redis_unavailable_timeout;
  s.reconnect_min = cfg.redis_reconnect_min;
  s.reconnect_max = cfg.redis_reconnect_max;
  s.batch_delay = cfg.redis_batch_delay;
  s.queue_commands = cfg.redis_queue_commands;
  s.queue_bytes = cfg.redis_queue_bytes;
  s.stream_max = cfg.redis_stream_max;
  s.dedupe_window = cfg.redis_dedupe_window;
  s.room_idle_ttl = cfg.redis_room_idle_ttl;
  s.node_ttl = cfg.redis_node_ttl;
  s.node = cfg.node;
  // A message's text is at most one client frame; room, user, cid and origin are small.
  s.max_message_bytes = size_t(cfg.max_frame_bytes) + 4096;
  // A stream entry is the message and five reply objects (entry, id, fields, "m", body).
  s.max_reply_bytes = std::max(s.max_reply_bytes,
                               size_t(settings::max_fetch_rows) * (s.max_message_bytes + 1024));
  out = std::move(s);
  return {};
}

} // namespace chat::redis
