// Strict parsing and validation of the node's own configuration sections.
#include "config/node_config.hpp"

#include "config/ini_reader.hpp"
#include "config/log.hpp"
#include "config/redis_uri.hpp"

#include <boost/asio/ip/address.hpp>

#include <climits>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <unistd.h>

namespace chat::config {

namespace {

const std::set<std::string> our_sections = {"chat",  "net",   "admin",    "storage", "mongo",
                                            "redis", "sio",   "security", "log"};

bool parse_uint(const std::string& s, uint64_t max, uint64_t& out) {
  if (s.empty() || s.size() > 20)
    return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    if (v > (UINT64_MAX - uint64_t(c - '0')) / 10)
      return false;
    v = v * 10 + uint64_t(c - '0');
  }
  if (v > max)
    return false;
  out = v;
  return true;
}

// Parses "64KiB", "4MiB", "1GiB" or a plain number of bytes.
bool parse_bytes(const std::string& s, uint64_t& out) {
  static const std::pair<const char*, uint64_t> units[] = {
    {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}, {"B", 1}};
  for (auto& [suffix, mult] : units) {
    std::string suf = suffix;
    if (s.size() > suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0) {
      uint64_t v;
      if (!parse_uint(s.substr(0, s.size() - suf.size()), UINT64_MAX / mult, v))
        return false;
      out = v * mult;
      return true;
    }
  }
  return parse_uint(s, UINT64_MAX, out);
}

using setter = std::function<std::string(node_config&, const std::string&)>;

std::string bad(const std::string& what, const std::string& v) {
  return "expected " + what + ", got '" + v + "'";
}

template <class T>
setter uint_key(T node_config::*field, uint64_t lo, uint64_t hi) {
  return [=](node_config& c, const std::string& v) -> std::string {
    uint64_t x;
    if (!parse_uint(v, hi, x) || x < lo)
      return bad("an integer in " + std::to_string(lo) + ".." + std::to_string(hi), v);
    c.*field = static_cast<T>(x);
    return {};
  };
}

setter bytes_key(uint64_t node_config::*field, uint64_t lo) {
  return [=](node_config& c, const std::string& v) -> std::string {
    uint64_t x;
    if (!parse_bytes(v, x) || x < lo)
      return bad("a size of at least " + std::to_string(lo) + " bytes (e.g. 64KiB)", v);
    c.*field = x;
    return {};
  };
}

setter bytes32_key(uint32_t node_config::*field, uint64_t lo, uint64_t hi) {
  return [=](node_config& c, const std::string& v) -> std::string {
    uint64_t x;
    if (!parse_bytes(v, x) || x < lo || x > hi)
      return bad("a size in " + std::to_string(lo) + ".." + std::to_string(hi) + " bytes", v);
    c.*field = static_cast<uint32_t>(x);
    return {};
  };
}

setter positive_key(double node_config::*field) {
  return [=](node_config& c, const std::string& v) -> std::string {
    std::istringstream in(v);
    double d;
    if (!(in >> d) || !in.eof() || !(d > 0))
      return bad("a positive number", v);
    c.*field = d;
    return {};
  };
}

setter string_key(std::string node_config::*field, bool allow_empty) {
  return [=](node_config& c, const std::string& v) -> std::string {
    if (!allow_empty && v.empty())
      return "must not be empty";
    c.*field = v;
    return {};
  };
}

setter bool_key(bool node_config::*field) {
  return [=](node_config& c, const std::string& v) -> std::string {
    if (v == "true")
      c.*field = true;
    else if (v == "false")
      c.*field = false;
    else
      return bad("true or false", v);
    return {};
  };
}

// A comma-separated list (spaces around items ignored, empty items refused); "" is empty.
setter list_key(std::vector<std::string> node_config::*field,
                std::function<std::string(const std::string&)> check) {
  return [=](node_config& c, const std::string& v) -> std::string {
    std::vector<std::string> items;
    size_t at = 0;
    while (!v.empty() && at <= v.size()) {
      auto comma = v.find(',', at);
      auto item = v.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      auto b = item.find_first_not_of(' ');
      auto e = item.find_last_not_of(' ');
      item = b == std::string::npos ? "" : item.substr(b, e - b + 1);
      if (item.empty())
        return bad("a comma-separated list without empty items", v);
      if (auto err = check(item); !err.empty())
        return err;
      items.push_back(item);
      if (comma == std::string::npos)
        break;
      at = comma + 1;
    }
    c.*field = std::move(items);
    return {};
  };
}

// An origin as browsers send it: scheme "://" host [":" port], nothing after; "*"; or
// "self" (the node's own origin).
std::string check_origin(const std::string& o) {
  if (o == "*" || o == "self")
    return {};
  auto sep = o.find("://");
  bool ok = sep != std::string::npos && sep > 0 && sep + 3 < o.size()
            && o.find('/', sep + 3) == std::string::npos
            && o.find_first_of(" ?#@") == std::string::npos;
  return ok ? std::string() : bad("origins like https://chat.example.com[:port], self, or *", o);
}

// An IP address, or an address/prefix-length (CIDR).
std::string check_proxy(const std::string& p) {
  auto slash = p.find('/');
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(p.substr(0, slash), ec);
  uint64_t bits = 0;
  if (!ec && slash != std::string::npos
      && !parse_uint(p.substr(slash + 1), addr.is_v4() ? 32 : 128, bits))
    ec = boost::asio::error::invalid_argument;
  return ec ? bad("IP addresses or CIDR prefixes (10.0.0.0/8)", p) : std::string();
}

template <class D>
setter duration_key(D node_config::*field, micros lo) {
  return [=](node_config& c, const std::string& v) -> std::string {
    micros d;
    if (!parse_duration(v, d) || d < lo)
      return bad("a duration of at least " + std::to_string(lo.count()) + "us (e.g. 2ms, 60s)",
                 v);
    c.*field = std::chrono::duration_cast<D>(d);
    return {};
  };
}

// A delay that trades latency for batching: 0 (off) up to 100ms.
setter short_delay_key(micros node_config::*field, const char* zero_means) {
  return [=](node_config& c, const std::string& v) -> std::string {
    micros d;
    if (!parse_duration(v, d) || d > micros(100000))
      return bad(std::string("a duration of at most 100ms (") + zero_means + ")", v);
    c.*field = d;
    return {};
  };
}

const std::map<std::string, setter>& setters() {
  static const std::map<std::string, setter> table = {
    {"chat.node", string_key(&node_config::node, false)},
    {"chat.max-rooms-per-conn", uint_key(&node_config::max_rooms_per_conn, 1, 1000000)},
    {"chat.rate-limit", positive_key(&node_config::rate_limit)},
    {"chat.rate-burst", positive_key(&node_config::rate_burst)},
    {"chat.room-ring", uint_key(&node_config::room_ring, 0, 10000000)},
    {"chat.dedupe-window", uint_key(&node_config::dedupe_window, 1, 100000000)},
    {"chat.max-rooms", uint_key(&node_config::max_rooms, 1, 100000000)},
    {"chat.flood-close-after", duration_key(&node_config::flood_close_after, micros(0))},
    {"chat.room-idle", duration_key(&node_config::room_idle, micros(1000))},
    {"chat.room-ring-bytes", bytes_key(&node_config::room_ring_bytes, 0)},
    {"chat.memory-max", bytes_key(&node_config::memory_max, 0)},
    {"chat.seq-block", uint_key(&node_config::seq_block, 1, 100000000)},
    {"chat.cid-index", uint_key(&node_config::cid_index, 0, 1u << 30)},
    {"chat.retention", duration_key(&node_config::retention, micros(0))},
    {"chat.user-rate-limit", positive_key(&node_config::user_rate_limit)},
    {"chat.user-rate-burst", positive_key(&node_config::user_rate_burst)},
    {"chat.max-connections-per-user",
     uint_key(&node_config::max_connections_per_user, 1, 10000000)},
    {"net.host", string_key(&node_config::host, false)},
    {"net.port", uint_key(&node_config::port, 0, 65535)},
    {"net.max-frame-bytes", bytes32_key(&node_config::max_frame_bytes, 256, 64u << 20)},
    {"net.queue-bytes", bytes_key(&node_config::queue_bytes, 1024)},
    {"net.io-threads", uint_key(&node_config::io_threads, 1, 64)},
    {"net.idle-timeout", duration_key(&node_config::idle_timeout, micros(100000))},
    {"net.frame-timeout", duration_key(&node_config::frame_timeout, micros(100000))},
    {"net.batch-delay",
     short_delay_key(&node_config::net_batch_delay, "0 looks at sockets again at once")},
    {"net.max-connections", uint_key(&node_config::max_connections, 1, 10000000)},
    {"net.http-header-limit", bytes32_key(&node_config::http_header_limit, 1024, 1u << 20)},
    {"net.http-body-limit", bytes32_key(&node_config::http_body_limit, 0, 64u << 20)},
    {"net.http-timeout", duration_key(&node_config::http_timeout, micros(100000))},
    {"net.http-max-requests", uint_key(&node_config::http_max_requests, 1, 1000000)},
    {"net.max-connections-per-ip", uint_key(&node_config::max_connections_per_ip, 1, 10000000)},
    {"net.allowed-origins", list_key(&node_config::allowed_origins, check_origin)},
    {"net.trusted-proxies", list_key(&node_config::trusted_proxies, check_proxy)},
    {"net.tls-cert", string_key(&node_config::tls_cert, true)},
    {"net.tls-key", string_key(&node_config::tls_key, true)},
    {"sio.ping-interval", duration_key(&node_config::sio_ping_interval, micros(10000))},
    {"sio.ping-timeout", duration_key(&node_config::sio_ping_timeout, micros(10000))},
    {"sio.max-payload", bytes32_key(&node_config::sio_max_payload, 256, 64u << 20)},
    {"sio.max-sessions", uint_key(&node_config::sio_max_sessions, 1, 10000000)},
    {"sio.connect-timeout", duration_key(&node_config::sio_connect_timeout, micros(100000))},
    {"sio.upgrade-timeout", duration_key(&node_config::sio_upgrade_timeout, micros(100000))},
    {"sio.connection-state-recovery", bool_key(&node_config::sio_recovery)},
    {"sio.max-disconnection-duration",
     duration_key(&node_config::sio_recovery_duration, micros(10000))},
    {"sio.recovery-bytes", bytes_key(&node_config::sio_recovery_bytes, 1024)},
    {"sio.recovery-max-sockets", uint_key(&node_config::sio_recovery_max_detached, 1, 10000000)},
    {"sio.recovery-frames", uint_key(&node_config::sio_recovery_frames, 1, 100000)},
    {"admin.host", string_key(&node_config::admin_host, false)},
    {"admin.port", uint_key(&node_config::admin_port, 0, 65535)},
    {"admin.token",
     [](node_config& c, const std::string& v) -> std::string {
       if (!v.empty() && (v.size() < 16 || v.find_first_of(" \t\r\n") != std::string::npos))
         return "must be empty or at least 16 characters without spaces";
       c.admin_token = v;
       return {};
     }},
    {"storage.backend",
     [](node_config& c, const std::string& v) -> std::string {
       if (v != "sqlite" && v != "mongo" && v != "memory")
         return bad("sqlite, mongo or memory", v);
       c.backend = v;
       return {};
     }},
    {"storage.path", string_key(&node_config::path, false)},
    {"storage.writers", uint_key(&node_config::writers, 1, 64)},
    {"storage.batch-max", uint_key(&node_config::batch_max, 1, 1000000)},
    {"storage.batch-delay", duration_key(&node_config::batch_delay, micros(0))},
    {"storage.lazy-delay", duration_key(&node_config::lazy_delay, micros(0))},
    {"storage.backlog-max", uint_key(&node_config::backlog_max, 1, 100000000)},
    {"storage.writer-nice", uint_key(&node_config::writer_nice, 0, 19)},
    {"storage.backlog-bytes", bytes_key(&node_config::backlog_bytes, 1024)},
    {"storage.shutdown-timeout", duration_key(&node_config::shutdown_timeout, micros(0))},
    {"storage.readers", uint_key(&node_config::readers, 1, 64)},
    {"storage.read-queue", uint_key(&node_config::read_queue, 1, 100000000)},
    {"storage.read-timeout", duration_key(&node_config::read_timeout, micros(1000))},
    {"storage.access-log-retention",
     duration_key(&node_config::access_log_retention, micros(1000000))},
    {"storage.user-retention", duration_key(&node_config::user_retention, micros(1000000))},
    {"storage.prune-interval", duration_key(&node_config::prune_interval, micros(1000))},
    {"storage.prune-batch", uint_key(&node_config::prune_batch, 1, 1000000)},
    {"mongo.uri", string_key(&node_config::mongo_uri, false)},
    {"mongo.database", string_key(&node_config::mongo_database, false)},
    {"mongo.connect-timeout", duration_key(&node_config::mongo_connect_timeout, micros(1000))},
    {"redis.uri",
     [](node_config& c, const std::string& v) -> std::string {
       redis_uri parsed;
       if (!v.empty()) {
         auto err = parse_redis_uri(v, parsed);
         if (!err.empty())
           return err + ", got '" + v + "'";
       }
       c.redis_uri = v;
       return {};
     }},
    {"redis.cluster", bool_key(&node_config::redis_cluster)},
    {"redis.stream-max", uint_key(&node_config::redis_stream_max, 1, 10000000)},
    {"redis.dedupe-window", uint_key(&node_config::redis_dedupe_window, 1, 10000000)},
    {"redis.room-idle-ttl", duration_key(&node_config::redis_room_idle_ttl, micros(1000000))},
    {"redis.node-ttl", duration_key(&node_config::redis_node_ttl, micros(500000))},
    {"redis.connect-timeout", duration_key(&node_config::redis_connect_timeout, micros(10000))},
    {"redis.command-timeout", duration_key(&node_config::redis_command_timeout, micros(10000))},
    {"redis.unavailable-timeout",
     duration_key(&node_config::redis_unavailable_timeout, micros(0))},
    {"redis.reconnect-min", duration_key(&node_config::redis_reconnect_min, micros(1000))},
    {"redis.reconnect-max", duration_key(&node_config::redis_reconnect_max, micros(1000))},
    {"redis.batch-delay",
     short_delay_key(&node_config::redis_batch_delay, "0 writes each command at once")},
    {"redis.queue-commands", uint_key(&node_config::redis_queue_commands, 1, 100000000)},
    {"redis.queue-bytes", bytes_key(&node_config::redis_queue_bytes, 4096)},
    {"security.allow-anonymous", bool_key(&node_config::allow_anonymous)},
    {"security.at-rest-keys", string_key(&node_config::at_rest_keys, true)},
    {"security.token-key", string_key(&node_config::token_key, true)},
    {"security.token-ttl", duration_key(&node_config::token_ttl, micros(10000000))},
    {"security.refresh-ttl", duration_key(&node_config::refresh_ttl, micros(10000000))},
    {"security.password-ops", uint_key(&node_config::password_ops, 1, 100)},
    {"security.password-mem",
     [](node_config& c, const std::string& v) -> std::string {
       uint64_t x;
       if (!parse_bytes(v, x) || x < (8u << 10) || x > (4ull << 30))
         return bad("a size in 8KiB..4GiB", v);
       c.password_mem = x;
       return {};
     }},
    {"security.hash-threads", uint_key(&node_config::hash_threads, 1, 64)},
    {"security.hash-queue", uint_key(&node_config::hash_queue, 1, 1000000)},
    {"security.hash-nice", uint_key(&node_config::hash_nice, 0, 19)},
    {"security.login-failures-per-ip", uint_key(&node_config::login_failures_per_ip, 1, 1000000)},
    {"security.login-failures-per-user",
     uint_key(&node_config::login_failures_per_user, 1, 1000000)},
    {"security.login-failure-window",
     duration_key(&node_config::login_failure_window, micros(1000000))},
    {"log.level",
     [](node_config& c, const std::string& v) -> std::string {
       if (!logging::valid_level(v))
         return bad("trace, debug, info, warn, error or off", v);
       c.log_level = v;
       return {};
     }},
  };
  return table;
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == 0)
    return "node";
  return buf;
}

} // namespace

bool parse_duration(const std::string& text, micros& out) {
  static const std::pair<const char*, int64_t> units[] = {
    {"us", 1},           {"ms", 1000},          {"min", 60000000},
    {"s", 1000000},      {"h", 3600000000ll},   {"d", 86400000000ll}};
  for (auto& [suffix, mult] : units) {
    std::string suf = suffix;
    if (text.size() > suf.size()
        && text.compare(text.size() - suf.size(), suf.size(), suf) == 0) {
      uint64_t v;
      if (!parse_uint(text.substr(0, text.size() - suf.size()), INT64_MAX / mult, v))
        return false;
      out = micros(int64_t(v) * mult);
      return true;
    }
  }
  uint64_t v;
  if (!parse_uint(text, INT64_MAX / 1000, v))
    return false;
  out = micros(int64_t(v) * 1000);
  return true;
}

std::string check(const node_config& cfg) {
  if (!cfg.redis_uri.empty()) {
    redis_uri uri;
    auto err = parse_redis_uri(cfg.redis_uri, uri);
    if (!err.empty())
      return "config: redis.uri: " + err;
    bool cluster = uri.cluster || cfg.redis_cluster;
    if (uri.hosts.size() > 1 && !cluster)
      return "config: redis.uri: several hosts need redis.cluster=true or redis+cluster://";
    if (cluster && uri.db != 0)
      return "config: redis.uri: a cluster has no databases (drop '/" + std::to_string(uri.db)
             + "')";
  }
  if (cfg.redis_reconnect_min > cfg.redis_reconnect_max)
    return "config: redis.reconnect-min: must not exceed redis.reconnect-max";
  if (cfg.sio_recovery && cfg.sio_recovery_bytes > cfg.queue_bytes / 2)
    return "config: sio.recovery-bytes: at most half of net.queue-bytes (a recovered "
           "client's replay must fit its queue)";
  if (cfg.tls_cert.empty() != cfg.tls_key.empty())
    return "config: net.tls-cert and net.tls-key: give both (TLS) or neither";
  boost::system::error_code ec;
  auto admin = boost::asio::ip::make_address(cfg.admin_host, ec);
  if (ec)
    return "config: admin.host: not an IP address: '" + cfg.admin_host + "'";
  if (!admin.is_loopback() && cfg.admin_token.empty())
    return "config: admin.token: required when admin.host is not a loopback address ('"
           + cfg.admin_host + "')";
  return {};
}

std::string apply(node_config& cfg, const std::string& key, const std::string& value) {
  auto& table = setters();
  auto i = table.find(key);
  if (i == table.end())
    return "config: unknown key '" + key + "'";
  auto err = i->second(cfg, value);
  if (!err.empty())
    return "config: " + key + ": " + err;
  return {};
}

std::string apply_ini(node_config& cfg, const std::string& text, const std::string& file_name) {
  ini_sections ini;
  try {
    ini = parse_ini(text);
  } catch (const std::exception& e) {
    return "config: " + file_name + ":" + e.what();
  }
  for (auto& [section, keys] : ini) {
    if (!our_sections.count(section))
      continue;
    for (auto& [k, v] : keys) {
      auto err = apply(cfg, section + "." + k, v);
      if (!err.empty())
        return err + " (in " + file_name + ")";
    }
  }
  return {};
}

load_result load(const std::vector<std::string>& args) {
  load_result res;
  res.cfg.node = host_name();
  std::vector<std::pair<std::string, std::string>> overrides;
  bool explicit_file = false;
  for (auto& a : args) {
    if (a.rfind("--config-file=", 0) == 0) {
      res.config_file = a.substr(14);
      explicit_file = true;
      continue;
    }
    if (a.rfind("--", 0) == 0) {
      auto eq = a.find('=');
      auto key = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      auto dot = key.find('.');
      if (dot != std::string::npos && our_sections.count(key.substr(0, dot))) {
        if (eq == std::string::npos) {
          res.error = "config: " + key + ": missing value (use --" + key + "=VALUE)";
          return res;
        }
        overrides.emplace_back(key, a.substr(eq + 1));
        continue;
      }
    }
    res.caf_args.push_back(a);
  }
  if (!explicit_file) {
    std::ifstream probe("caf-application.conf");
    if (probe)
      res.config_file = "caf-application.conf";
  }
  if (!res.config_file.empty()) {
    std::ifstream in(res.config_file);
    if (!in) {
      res.error = "config: cannot read config file '" + res.config_file + "'";
      return res;
    }
    std::stringstream text;
    text << in.rdbuf();
    res.error = apply_ini(res.cfg, text.str(), res.config_file);
    if (!res.error.empty())
      return res;
  }
  for (auto& [k, v] : overrides) {
    auto err = apply(res.cfg, k, v);
    if (!err.empty()) {
      res.error = err;
      return res;
    }
  }
  res.error = check(res.cfg);
  return res;
}

} // namespace chat::config
