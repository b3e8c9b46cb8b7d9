// Presence script (one script, several operations, all on the {presence} slot), heartbeat
// and reaper timers, and the node's own user table for resending after a loss.
#include "net/redis/presence.hpp"

#include "config/log.hpp"
#include "net/redis/message_codec.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <future>
#include <set>
#include <unordered_map>

namespace chat::redis {

namespace {

const std::string nodes_key = "{presence}:nodes";
const std::string node_prefix = "{presence}:node:";
const std::string rooms_prefix = "{presence}:rooms:";
const std::string channel = "{presence}:events";
constexpr size_t users_per_call = 500;
constexpr size_t max_event_bytes = 1 << 20;

// KEYS: nodes zset, the user hash and the rooms hash of ARGV[2]'s node.
// ARGV: op, node, ttl ms, publish command, events channel, node key prefix, rooms key
// prefix, op args...
//   set     user count rooms ... -> 1 when this node's entry had vanished (resend everything)
//                                  (rooms: encoded fields, told when the user goes offline)
//   join    user room          -> 1 (recorded; the event published unless another live
//                                  node lists the user in the room) / 0 (the user is not
//                                  held here)
//   part    user room          -> 1
//   reap                       -> number of dead nodes removed
//   remove                     -> 1
//   nodes                      -> {name, expires in ms, users, connections} per live node
//   online  user ...           -> 1/0 per user
//   users                      -> HGETALL of the node's hash
// A rooms hash value is the user's rooms as "<len>:<room>" fields, the tail of an event.
const script& presence_script() {
  static const script s(R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op, node, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local pub, chan, prefix, rprefix = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local function field(s) return #s .. ':' .. s end
local function fields(v)
  local out, i = {}, 1
  while i <= #v do
    local c = string.find(v, ':', i, true)
    local n = c and tonumber(string.sub(v, i, c - 1))
    if not n then break end
    out[#out + 1] = string.sub(v, c + 1, c + n)
    i = c + 1 + n
  end
  return out
end
local function live_nodes()
  return redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')
end
local function held(user, live, except)
  for _, n in ipairs(live) do
    if n ~= except and redis.call('HEXISTS', prefix .. n, user) == 1 then return true end
  end
  return false
end
-- Whether a live node other than `except` lists `room` among `user`'s rooms.
local function in_room_elsewhere(user, room, except)
  for _, n in ipairs(live_nodes()) do
    if n ~= except then
      for _, r in ipairs(fields(redis.call('HGET', rprefix .. n, user) or '')) do
        if r == room then return true end
      end
    end
  end
  return false
end
local function remove(name)
  local users = redis.call('HKEYS', prefix .. name)
  redis.call('ZREM', KEYS[1], name)
  local live = live_nodes()
  for _, u in ipairs(users) do
    if not held(u, live, name) then
      redis.call(pub, chan, '-' .. field(u) .. (redis.call('HGET', rprefix .. name, u) or ''))
    end
  end
  redis.call('DEL', prefix .. name, rprefix .. name)
end
if op == 'set' then
  local added = redis.call('ZADD', KEYS[1], now + ttl, node)
  local live = nil
  for i = 8, #ARGV, 3 do
    local user, count = ARGV[i], tonumber(ARGV[i + 1])
    local was = redis.call('HEXISTS', KEYS[2], user) == 1
    if count > 0 then
      redis.call('HSET', KEYS[2], user, count)
    else
      redis.call('HDEL', KEYS[2], user)
      redis.call('HDEL', KEYS[3], user)
    end
    if was ~= (count > 0) then
      live = live or live_nodes()
      if not held(user, live, node) then
        redis.call(pub, chan, (count > 0 and '+' .. field(user) or '-' .. field(user) .. ARGV[i + 2]))
      end
    end
  end
  redis.call('PEXPIRE', KEYS[2], ttl * 3)
  redis.call('PEXPIRE', KEYS[3], ttl * 3)
  return added
elseif op == 'join' or op == 'part' then
  local user, room = ARGV[8], ARGV[9]
  if op == 'join' and redis.call('HEXISTS', KEYS[2], user) == 0 then return 0 end
  local kept, had = {}, false
  for _, r in ipairs(fields(redis.call('HGET', KEYS[3], user) or '')) do
    if r ~= room then kept[#kept + 1] = field(r) else had = true end
  end
  if op == 'join' then
    kept[#kept + 1] = field(room)
    -- The room's members heard `online` when the user's first node joined it.
    if not had and not in_room_elsewhere(user, room, node) then
      redis.call(pub, chan, '+' .. field(user) .. field(room))
    end
  end
  if #kept == 0 then
    redis.call('HDEL', KEYS[3], user)
  else
    redis.call('HSET', KEYS[3], user, table.concat(kept))
    redis.call('PEXPIRE', KEYS[3], ttl * 3)
  end
  return 1
elseif op == 'reap' then
  local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', now))
  for _, d in ipairs(dead) do remove(d) end
  return #dead
elseif op == 'remove' then
  remove(node)
  return 1
elseif op == 'nodes' then
  local out = {}
  for _, n in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf', 'WITHSCORES')) do
    out[#out + 1] = n
  end
  local res = {}
  for i = 1, #out, 2 do
    local conns = 0
    for _, c in ipairs(redis.call('HVALS', prefix .. out[i])) do conns = conns + tonumber(c) end
    res[#res + 1] = {out[i], tonumber(out[i + 1]) - now, redis.call('HLEN', prefix .. out[i]),
                     conns}
  end
  return res
elseif op == 'online' then
  local live = live_nodes()
  local res = {}
  for i = 8, #ARGV do res[#res + 1] = held(ARGV[i], live, nil) and 1 or 0 end
  return res
elseif op == 'users' then
  return redis.call('HGETALL', prefix .. node)
end
return redis.error_reply('unknown presence operation')
)lua");
  return s;
}

} // namespace

// Everything the io thread touches, shared with the callbacks queued there; `dead` (io
// thread only) turns them into no-ops once the presence object is gone.
struct presence::core : std::enable_shared_from_this<presence::core> {
  struct count_update {
    std::string user;
    uint32_t count = 0;
    std::string rooms; // fields, told when the user goes offline
  };

  client& rc;
  events ev;
  std::string node, node_key, rooms_key, ttl, pub;
  boost::asio::steady_timer beat_timer, reap_timer;
  std::unordered_map<std::string, uint32_t> users; // this node's users -> connections
  std::unordered_map<std::string, std::set<std::string>> rooms; // their rooms here
  // Users Redis may not know right -> the rooms to tell if they went offline.
  std::unordered_map<std::string, std::string> unsent;
  bool started = false, stopping = false, dead = false;
  bool registered = false; // a `set` succeeded: the node entry exists

  core(client& c, events e)
    : rc(c), ev(std::move(e)), node(c.config().node), node_key(node_prefix + node),
      rooms_key(rooms_prefix + node), ttl(std::to_string(c.config().node_ttl.count())),
      pub(c.config().cluster ? "SPUBLISH" : "PUBLISH"), beat_timer(c.io()), reap_timer(c.io()) {}

  // The arguments every operation starts with.
  std::vector<std::string_view> args(std::string_view op, std::string_view of_node) const {
    return {op, of_node, ttl, pub, channel, node_prefix, rooms_prefix};
  }
  std::vector<std::string_view> keys() const { return {nodes_key, node_key, rooms_key}; }

  bool run(std::string_view op, callback done) {
    return rc.eval(presence_script(), keys(), args(op, node), std::move(done));
  }

  void begin() {
    if (started || dead)
      return;
    started = true;
    // Whatever a previous run of this node left (it was killed) goes first.
    run("remove", [](response&& resp) {
      if (!resp.ok())
        CHAT_LOG_LIMITED(spdlog::level::warn, "redis presence: clearing the previous run: {}",
                         resp.describe());
    });
    std::weak_ptr<core> weak = shared_from_this();
    rc.subscribe(channel, channel_handlers{[weak](std::string_view payload) {
                                             auto self = weak.lock();
                                             if (self && !self->dead)
                                               self->on_event(payload);
                                           },
                                           [weak](bool) {
                                             auto self = weak.lock();
                                             if (self && !self->dead && self->ev.on_resync)
                                               self->ev.on_resync();
                                           }});
    heartbeat();
    reap();
  }

  void on_event(std::string_view payload) {
    presence_event e;
    if (auto err = decode_presence_event(payload, max_event_bytes, e); !err.empty()) {
      if (ev.on_malformed)
        ev.on_malformed();
      CHAT_LOG_LIMITED(spdlog::level::warn, "redis presence: malformed event ({} bytes): {}",
                       payload.size(), err);
      return;
    }
    if (ev.on_change)
      ev.on_change(e.user, e.online, e.rooms);
  }

  void halt() {
    stopping = true;
    beat_timer.cancel();
    reap_timer.cancel();
  }

  // Sends users' current counts (setting is idempotent: resending is always safe). Users
  // whose update was refused or failed are kept in `unsent` and go with the next heartbeat.
  void update(std::vector<count_update> batch) {
    size_t i = 0;
    do { // an empty batch is the heartbeat
      size_t end = std::min(batch.size(), i + users_per_call);
      auto part = std::make_shared<std::vector<count_update>>(
        std::make_move_iterator(batch.begin() + i), std::make_move_iterator(batch.begin() + end));
      std::vector<std::string> counts;
      for (auto& u : *part)
        counts.push_back(std::to_string(u.count));
      auto a = args("set", node);
      for (size_t j = 0; j < part->size(); ++j) {
        a.push_back((*part)[j].user);
        a.push_back(counts[j]);
        a.push_back((*part)[j].rooms);
      }
      auto done = [self = shared_from_this(), part](response&& resp) {
        self->updated(resp, *part);
      };
      if (!rc.eval(presence_script(), keys(), a, std::move(done)))
        keep_unsent(*part);
      i = end;
    } while (i < batch.size());
  }

  void keep_unsent(std::vector<count_update>& part) {
    for (auto& u : part)
      unsent[u.user] = std::move(u.rooms);
  }

  void updated(const response& resp, std::vector<count_update>& part) {
    if (dead)
      return;
    if (!resp.ok()) {
      CHAT_LOG_LIMITED(spdlog::level::warn, "redis presence: update failed: {}",
                       resp.describe());
      keep_unsent(part);
      return;
    }
    // 1: our node entry had vanished (Redis lost it, or we were reaped): send everything.
    // The first answer says 1 too (the entry is new): what it could miss is still queued.
    bool vanished = resp.value.type == reply::kind::integer && resp.value.integer == 1;
    bool first = !registered;
    registered = true;
    if (vanished && !first && !stopping) {
      for (auto& [user, count] : users)
        unsent.emplace(user, std::string{});
      flush_unsent();
      for (auto& [user, in] : rooms)
        for (auto& room : in)
          membership("join", user, room);
    }
  }

  void flush_unsent() {
    std::vector<count_update> batch;
    for (auto& [user, offline_rooms] : unsent) {
      auto it = users.find(user);
      batch.push_back({user, it == users.end() ? 0 : it->second, std::move(offline_rooms)});
    }
    unsent.clear();
    if (!batch.empty())
      update(std::move(batch));
  }

  // `op` "join" or "part" of `user` in `room` on this node.
  void membership(std::string_view op, const std::string& user, const std::string& room) {
    auto a = args(op, node);
    a.push_back(user);
    a.push_back(room);
    bool sent = rc.eval(presence_script(), keys(), a, [op](response&& resp) {
      if (!resp.ok())
        CHAT_LOG_LIMITED(spdlog::level::warn, "redis presence: {} failed: {}", op,
                         resp.describe());
    });
    if (!sent)
      CHAT_LOG_LIMITED(spdlog::level::warn, "redis presence: {} refused (queue full)", op);
  }

  void heartbeat() {
    if (stopping || dead)
      return;
    if (unsent.empty())
      update({});
    else
      flush_unsent(); // also a heartbeat
    beat_timer.expires_after(std::max(millis(50), rc.config().node_ttl / 3));
    beat_timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec)
        self->heartbeat();
    });
  }

  void reap() {
    if (stopping || dead)
      return;
    run("reap", [](response&& resp) {
      if (!resp.ok())
        CHAT_LOG_LIMITED(spdlog::level::warn, "redis presence: reaping failed: {}",
                         resp.describe());
    });
    reap_timer.expires_after(std::min(millis(1000), rc.config().node_ttl / 2));
    reap_timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec)
        self->reap();
    });
  }
};

std::string presence::events_channel() { return channel; }

presence::presence(client& c, events ev) : core_(std::make_shared<core>(c, std::move(ev))) {
  c.add_script(presence_script());
}

presence::~presence() {
  boost::asio::post(core_->rc.io(), [c = core_] {
    c->dead = true;
    c->halt();
  });
}

void presence::start() {
  boost::asio::post(core_->rc.io(), [c = core_] { c->begin(); });
}

void presence::stop(millis wait) {
  auto answered = std::make_shared<std::promise<void>>();
  auto done = answered->get_future();
  boost::asio::post(core_->rc.io(), [c = core_, answered] {
    c->halt();
    c->rc.unsubscribe(channel);
    if (!c->run("remove", [answered](response&&) { answered->set_value(); }))
      answered->set_value();
  });
  if (done.wait_for(wait) != std::future_status::ready)
    spdlog::warn("redis presence: leaving took longer than {} ms", wait.count());
}

void presence::set_connections(const std::string& user, uint32_t count,
                               std::vector<std::string> rooms) {
  boost::asio::post(core_->rc.io(), [c = core_, user, count, rooms = std::move(rooms)] {
    if (c->stopping || c->dead)
      return;
    if (count == 0) {
      c->users.erase(user);
      c->rooms.erase(user);
    } else {
      c->users[user] = count;
    }
    c->unsent.erase(user); // this update supersedes a failed one
    c->update({{user, count, count == 0 ? encode_room_fields(rooms) : std::string{}}});
  });
}

void presence::joined(const std::string& user, const std::string& room) {
  boost::asio::post(core_->rc.io(), [c = core_, user, room] {
    if (c->stopping || c->dead || !c->users.count(user))
      return;
    c->rooms[user].insert(room);
    c->membership("join", user, room);
  });
}

void presence::parted(const std::string& user, const std::string& room) {
  boost::asio::post(core_->rc.io(), [c = core_, user, room] {
    auto in = c->rooms.find(user);
    if (c->stopping || c->dead || in == c->rooms.end() || !in->second.erase(room))
      return;
    if (in->second.empty())
      c->rooms.erase(in);
    c->membership("part", user, room);
  });
}

void presence::live_nodes(std::function<void(bool, std::vector<node_info>)> done) {
  bool sent = core_->run("nodes", [done](response&& resp) {
    auto nodes = parse_live_nodes(resp);
    done(nodes.has_value(), nodes ? std::move(*nodes) : std::vector<node_info>{});
  });
  if (!sent)
    done(false, {});
}

void presence::online(std::vector<std::string> users,
                      std::function<void(bool, std::map<std::string, bool>)> done) {
  auto a = core_->args("online", core_->node);
  for (auto& u : users)
    a.push_back(u);
  bool sent = core_->rc.eval(
    presence_script(), core_->keys(), a, [users, done](response&& resp) {
      auto out = parse_online(resp, users);
      done(out.has_value(), out ? std::move(*out) : std::map<std::string, bool>{});
    });
  if (!sent)
    done(false, {});
}

void presence::node_users(const std::string& node,
                          std::function<void(bool, std::map<std::string, uint64_t>)> done) {
  bool sent = core_->rc.eval(
    presence_script(), {nodes_key, node_prefix + node, rooms_prefix + node},
    core_->args("users", node),
    [done](response&& resp) {
      auto out = parse_node_users(resp);
      done(out.has_value(), out ? std::move(*out) : std::map<std::string, uint64_t>{});
    });
  if (!sent)
    done(false, {});
}

} // namespace chat::redis
