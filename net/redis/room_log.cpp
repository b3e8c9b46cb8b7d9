// The sequencing script, its arguments and replies, and stream range reads.
#include "net/redis/room_log.hpp"

#include "config/log.hpp"
#include "net/redis/client.hpp"
#include "net/redis/script.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace chat::redis {

namespace {

// KEYS: seq, hist, cida, cidb, seeded.
// ARGV: body, channel, floor, seeded, stream-max, dedupe-window, dedupe field ("" = none),
//       text fingerprint, publish command, ts, idle ttl ms (stream and dedupe hashes),
//       store checked.
// Returns {1, seq} sequenced, {2, seq, ts} duplicate, {3, seq, ts} conflict, {4, 0} seed,
// {5, 0} check the store.
// Numbers are formatted with %d: Lua's tostring() switches to exponents past 1e14.
const script& sequence_script() {
  static const script s(R"lua(
local field = ARGV[7]
if field ~= '' then
  for i = 3, 4 do
    local v = redis.call('HGET', KEYS[i], field)
    if v then
      local seq, fp, ts = string.match(v, '^(%d+):([^:]*):(-?%d+)$')
      if fp == ARGV[8] then return {2, tonumber(seq), tonumber(ts)} end
      return {3, tonumber(seq), tonumber(ts)}
    end
  end
  -- Within a window after a seeding the dedupe hashes miss what was numbered before the
  -- loss: an unknown (user, cid) is checked against the store first.
  if ARGV[12] ~= '1' then
    local seeded = redis.call('GET', KEYS[5])
    if seeded and tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(seeded) + tonumber(ARGV[6])
    then return {5, 0} end
  end
end
local floor = tonumber(ARGV[3])
local seq = redis.call('INCR', KEYS[1])
if seq == 1 then
  -- The counter was missing (once a room numbered a message it is never 0).
  if ARGV[4] ~= '1' then
    redis.call('DEL', KEYS[1])
    return {4, 0}
  end
  -- The stream may have outlived the counter (eviction): never number below it.
  local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
  local base = 0
  if top[1] then base = tonumber(string.match(top[1][1], '^(%d+)')) end
  if floor > base then base = floor end
  if base > 0 then
    redis.call('SET', KEYS[5], string.format('%d', base), 'PX', ARGV[11])
    if field ~= '' and ARGV[12] ~= '1' then
      redis.call('SET', KEYS[1], string.format('%d', base))
      return {5, 0}
    end
    seq = base + 1
    redis.call('SET', KEYS[1], string.format('%d', seq))
  end
elseif seq <= floor then
  seq = floor + 1
  redis.call('SET', KEYS[1], string.format('%d', seq))
end
local s = string.format('%d', seq)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], s .. '-0', 'm', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[11])
if field ~= '' then
  -- A generation's hash is emptied when its next generation starts (UNLINK frees it in
  -- the background); after a jump (seeding) it may keep a few older entries until then.
  local w = tonumber(ARGV[6])
  local gen = math.floor(seq / w)
  local key = KEYS[3 + gen % 2]
  if math.floor((seq - 1) / w) ~= gen then redis.call('UNLINK', key) end
  redis.call('HSET', key, field, s .. ':' .. ARGV[8] .. ':' .. ARGV[10])
  redis.call('PEXPIRE', key, ARGV[11])
end
redis.call(ARGV[9], ARGV[2], s .. ':' .. ARGV[1])
return {1, seq}
)lua");
  return s;
}

// Injective and never empty (an empty tag would hash each key alone): '%' and '}' are
// escaped, and the empty room, which escaping cannot produce otherwise, becomes "%".
std::string tag_of(std::string_view room) {
  if (room.empty())
    return "%";
  std::string tag;
  tag.reserve(room.size());
  for (char c : room) {
    if (c == '%')
      tag += "%25";
    else if (c == '}')
      tag += "%7D";
    else
      tag += c;
  }
  return tag;
}

std::string tagged(std::string_view prefix, const std::string& tag) {
  std::string key;
  key.reserve(prefix.size() + tag.size() + 2);
  key.append(prefix.data(), prefix.size());
  key += '{';
  key += tag;
  key += '}';
  return key;
}

// FNV-1a, 64 bits, in hex: tells a retry (same text) from a conflicting reuse of a cid.
std::string fingerprint(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

// (user, cid) as one hash field, unambiguously: "<len(user)>:<user><cid>".
std::string dedupe_field(const room_message& m) {
  if (m.cid.empty())
    return {};
  return std::to_string(m.user.size()) + ":" + m.user + m.cid;
}

bool read_int(const reply& r, int64_t& out) {
  if (r.type != reply::kind::integer)
    return false;
  out = r.integer;
  return true;
}

// A seq written by Redis: at most what INCR hands out (2^63 - 1), so seq + 1 cannot wrap.
bool parse_seq(std::string_view s, uint64_t& seq) {
  return parse_uint(s, seq) && seq <= uint64_t(std::numeric_limits<int64_t>::max());
}

// "<seq>-0".
bool parse_entry_id(const std::string& id, uint64_t& seq) {
  auto dash = id.find('-');
  return dash != std::string::npos && id.compare(dash, std::string::npos, "-0") == 0
         && parse_seq(std::string_view(id).substr(0, dash), seq);
}

} // namespace

seq_result parse_sequenced(const response& resp) {
  seq_result res;
  res.fail = resp.fail;
  if (!resp.ok()) {
    res.error = resp.describe();
    return res;
  }
  auto& v = resp.value;
  int64_t code = 0, seq = 0, ts = 0;
  if (!v.is_array() || v.elements.size() < 2 || !read_int(v.elements[0], code)
      || !read_int(v.elements[1], seq) || seq < 0
      || (v.elements.size() > 2 && !read_int(v.elements[2], ts))) {
    res.error = "unexpected reply from the sequencing script";
    return res;
  }
  res.seq = uint64_t(seq);
  res.ts_ms = ts;
  switch (code) {
  case 1: res.status = seq_status::sequenced; break;
  case 2: res.status = seq_status::duplicate; break;
  case 3: res.status = seq_status::conflict; break;
  case 4: res.status = seq_status::needs_seed; break;
  case 5: res.status = seq_status::needs_check; break;
  default: res.error = "unexpected status from the sequencing script";
  }
  if (res.status != seq_status::needs_seed && res.status != seq_status::needs_check
      && res.status != seq_status::failed && seq == 0) {
    res.status = seq_status::failed;
    res.error = "the sequencing script returned seq 0";
  }
  return res;
}

std::optional<uint64_t> parse_last_seq(const response& resp) {
  if (!resp.ok())
    return std::nullopt;
  if (resp.value.type == reply::kind::nil)
    return 0;
  uint64_t seq = 0;
  if (!resp.value.is_string() || !parse_seq(resp.value.str, seq))
    return std::nullopt;
  return seq;
}

room_keys keys_for(std::string_view room) {
  auto tag = tag_of(room);
  return room_keys{tagged("seq:", tag), tagged("hist:", tag), tagged("cida:", tag),
                   tagged("cidb:", tag), tagged("chat:", tag), tagged("seeded:", tag)};
}

std::string room_channel(std::string_view room) { return tagged("chat:", tag_of(room)); }

room_log::room_log(client& c)
  : client_(c), stream_max_(std::to_string(c.config().stream_max)),
    dedupe_window_(std::to_string(c.config().dedupe_window)),
    idle_ttl_(std::to_string(c.config().room_idle_ttl.count())) {
  client_.add_script(sequence_script());
}

bool room_log::sequence(const room_message& m, uint64_t floor, bool seeded, bool checked,
                        std::function<void(seq_result&&)> done) {
  return sequence(keys_for(m.room), m, floor, seeded, checked, std::move(done));
}

bool room_log::sequence(const room_keys& k, const room_message& m, uint64_t floor, bool seeded,
                        bool checked, std::function<void(seq_result&&)> done) {
  auto body = encode_body(m);
  auto floor_s = std::to_string(floor);
  auto field = dedupe_field(m);
  auto fp = fingerprint(m.text);
  auto ts = std::to_string(m.ts_ms);
  return client_.eval(sequence_script(), {k.seq, k.hist, k.cid_a, k.cid_b, k.seeded},
                      {body, k.channel, floor_s, seeded ? "1" : "0", stream_max_, dedupe_window_,
                       field, fp, client_.config().cluster ? "SPUBLISH" : "PUBLISH", ts,
                       idle_ttl_, checked ? "1" : "0"},
                      [done = std::move(done)](response&& resp) {
                        done(parse_sequenced(resp));
                      },
                      dispatch::batched);
}

range_result parse_range(const reply& r, std::string_view room, uint64_t after, uint64_t upto,
                         uint32_t max_count, size_t max_bytes) {
  range_result res;
  if (r.is_error() || !r.is_array()) {
    res.error = r.is_error() ? r.str : "XRANGE: not an array";
    return res;
  }
  if (r.elements.size() > max_count) {
    res.error = "XRANGE: more entries than asked for";
    return res;
  }
  uint64_t expected = after + 1;
  for (auto& e : r.elements) {
    uint64_t seq = 0;
    if (!e.is_array() || e.elements.size() != 2 || !e.elements[0].is_string()
        || !parse_entry_id(e.elements[0].str, seq) || seq < expected
        || (upto != 0 && seq > upto) || !e.elements[1].is_array()) {
      res.error = "XRANGE: malformed or out-of-order entry";
      return res;
    }
    auto& fields = e.elements[1].elements;
    room_message m;
    std::string err = "no field m";
    for (size_t i = 0; i + 1 < fields.size(); i += 2)
      if (fields[i].is_string() && fields[i].str == "m" && fields[i + 1].is_string())
        err = decode_body(fields[i + 1].str, max_bytes, m);
    if (err.empty() && m.room != room)
      err = "entry of another room";
    if (!err.empty()) {
      // Unreadable entries are reported as missing: the store has them.
      res.error = "XRANGE: entry " + std::to_string(seq) + ": " + err;
      continue;
    }
    if (seq > expected)
      res.missing.emplace_back(expected, seq - 1);
    m.seq = seq;
    res.messages.push_back(std::move(m));
    expected = seq + 1;
  }
  res.truncated = max_count > 0 && r.elements.size() == max_count;
  if (!res.truncated && upto != 0 && expected <= upto)
    res.missing.emplace_back(expected, upto);
  res.ok = true;
  return res;
}

bool room_log::fetch(std::string_view room, uint64_t after, uint64_t upto, uint32_t max_count,
                     std::function<void(range_result&&)> done) {
  // A page's reply must fit the reader's byte bound (settings::max_reply_bytes).
  max_count = std::clamp<uint32_t>(max_count, 1, settings::max_fetch_rows);
  auto k = keys_for(room);
  auto from = "(" + std::to_string(after) + "-0";
  auto to = upto == 0 ? std::string("+") : std::to_string(upto) + "-0";
  auto count = std::to_string(max_count);
  auto max_bytes = client_.config().max_message_bytes;
  return client_.command(k.hist, {"XRANGE", k.hist, from, to, "COUNT", count},
                         [room = std::string(room), after, upto, max_count, max_bytes,
                          done = std::move(done)](response&& resp) {
                           if (resp.fail != failure::none) {
                             range_result res;
                             res.error = to_string(resp.fail);
                             return done(std::move(res));
                           }
                           auto res = parse_range(resp.value, room, after, upto, max_count,
                                                  max_bytes);
                           if (!res.error.empty())
                             CHAT_LOG_LIMITED(spdlog::level::warn, "redis: room {}: {}", room,
                                              res.error);
                           done(std::move(res));
                         });
}

bool room_log::last_seq(std::string_view room, std::function<void(bool, uint64_t)> done) {
  auto k = keys_for(room);
  return client_.command(k.seq, {"GET", k.seq}, [done = std::move(done)](response&& resp) {
    auto seq = parse_last_seq(resp);
    done(seq.has_value(), seq.value_or(0));
  });
}

} // namespace chat::redis
