// The node's settings: one struct, read from caf-application.conf and `--section.key=value`
// command-line overrides, validated strictly (one clear line naming the key on error).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace chat::config {

using millis = std::chrono::milliseconds;
using micros = std::chrono::microseconds;

struct node_config {
  // [chat]
  std::string node;                 // chat.node, default: host name
  uint32_t max_rooms_per_conn = 100; // chat.max-rooms-per-conn
  double rate_limit = 1000;         // chat.rate-limit: frames per second per connection
  double rate_burst = 2000;         // chat.rate-burst: token bucket size
  uint32_t room_ring = 1000;        // chat.room-ring: recent messages kept per room for replay
  uint32_t dedupe_window = 2000;    // chat.dedupe-window: cids remembered per room
  uint32_t max_rooms = 100000;      // chat.max-rooms: rooms alive on this node
  millis flood_close_after{5000};   // chat.flood-close-after: refused this long without a 1 s
                                    // pause closes the connection (1008); 0 = never
  millis room_idle{60000};          // chat.room-idle: an empty room stops after this
  uint64_t room_ring_bytes = 1 << 20; // chat.room-ring-bytes: bytes of one room's ring
  uint64_t memory_max = 256ull << 20; // chat.memory-max: bytes of all rooms' rings
  uint32_t seq_block = 1000;        // chat.seq-block: seqs reserved durably per store write
  uint32_t cid_index = 262144;      // chat.cid-index: node-wide (user, cid) slots (24 B each)
  millis retention{0};              // chat.retention: messages older are pruned (0: never)
  double user_rate_limit = 2000;    // chat.user-rate-limit: frames per second per user, all
                                    // of the user's connections on this node together
  double user_rate_burst = 4000;    // chat.user-rate-burst
  uint32_t max_connections_per_user = 100; // chat.max-connections-per-user
  // [net]
  std::string host = "0.0.0.0";     // net.host
  uint16_t port = 8080;             // net.port (0 = pick a free port)
  uint32_t max_frame_bytes = 65536; // net.max-frame-bytes
  uint64_t queue_bytes = 4 << 20;   // net.queue-bytes: outbound bytes per connection
  uint32_t io_threads = 1;          // net.io-threads
  millis idle_timeout{60000};       // net.idle-timeout (a ping goes out after half of it)
  millis frame_timeout{10000};      // net.frame-timeout: a frame (a fragmented message) must
                                    // complete within this of its first byte
  micros net_batch_delay{2000};     // net.batch-delay: a network thread woken by work looks
                                    // for more at most once per this (0: at once)
  uint32_t max_connections = 100000; // net.max-connections
  uint32_t http_header_limit = 8192; // net.http-header-limit: request line + header fields
  uint32_t http_body_limit = 65536; // net.http-body-limit: one request body
  millis http_timeout{10000};       // net.http-timeout: to receive a request / send an answer
  uint32_t http_max_requests = 100; // net.http-max-requests: per keep-alive connection
  uint32_t max_connections_per_ip = 1000; // net.max-connections-per-ip: WebSocket sessions
  // net.allowed-origins: exact browser origins, "self" (the node's own), "*"; empty: none.
  std::vector<std::string> allowed_origins{"self"};
                                    // allowed on the client listener ("*": any); empty: none
  std::vector<std::string> trusted_proxies; // net.trusted-proxies: addresses (or CIDR
                                    // prefixes) whose X-Forwarded-For is believed
  std::string tls_cert;             // net.tls-cert: PEM certificate chain (with tls-key: TLS)
  std::string tls_key;              // net.tls-key: PEM private key
  // [sio] Socket.IO (Engine.IO v4) at /socket.io/
  millis sio_ping_interval{25000};  // sio.ping-interval: server pings (announced pingInterval)
  millis sio_ping_timeout{20000};   // sio.ping-timeout: a pong must come within this
  uint32_t sio_max_payload = 65536; // sio.max-payload: a polling body or WebSocket message
                                    // (announced maxPayload); net.http-body-limit if smaller
  uint32_t sio_max_sessions = 100000; // sio.max-sessions: open Engine.IO sessions
  millis sio_connect_timeout{45000}; // sio.connect-timeout: to connect a namespace after open
  millis sio_upgrade_timeout{10000}; // sio.upgrade-timeout: a probe WebSocket must complete
  // Socket.IO connection-state recovery (pid + offset in CONNECT); off by default.
  bool sio_recovery = false;             // sio.connection-state-recovery
  millis sio_recovery_duration{120000};  // sio.max-disconnection-duration: state kept this long
  uint64_t sio_recovery_bytes = 1 << 20; // sio.recovery-bytes: frames held while disconnected
  uint32_t sio_recovery_max_detached = 10000; // sio.recovery-max-sockets: dropped sockets kept
  uint32_t sio_recovery_frames = 500;    // sio.recovery-frames: sent frames kept to find the offset
  // [admin]
  std::string admin_host = "127.0.0.1"; // admin.host
  uint16_t admin_port = 9090;           // admin.port
  std::string admin_token;              // admin.token: bearer token the admin listener asks
                                        // for (required when admin.host is not loopback)
  // [storage]
  std::string backend = "sqlite";   // storage.backend: sqlite | mongo | memory
  std::string path = "./data";      // storage.path
  uint32_t writers = 1;             // storage.writers (SQLite has one write lock: 1)
  uint32_t batch_max = 5000;        // storage.batch-max
  micros batch_delay{5000};         // storage.batch-delay: when a persisted ack waits
  micros lazy_delay{100000};        // storage.lazy-delay: when no ack waits (at least batch-delay)
  uint32_t backlog_max = 200000;    // storage.backlog-max: unpersisted messages before acks wait
  uint32_t writer_nice = 0;         // storage.writer-nice: scheduling niceness of writer threads
  uint64_t backlog_bytes = 256ull << 20; // storage.backlog-bytes: unpersisted bytes before acks wait
  millis shutdown_timeout{10000};   // storage.shutdown-timeout: store retries at SIGTERM
  uint32_t readers = 2;             // storage.readers: reader connections (history, replay)
  uint32_t read_queue = 10000;      // storage.read-queue: reads waiting before `unavailable`
  millis read_timeout{10000};       // storage.read-timeout: a read unanswered by then fails
  millis access_log_retention{30ull * 24 * 3600 * 1000}; // storage.access-log-retention
  millis user_retention{30ull * 24 * 3600 * 1000};       // storage.user-retention
  millis prune_interval{60000};     // storage.prune-interval: between pruning passes
  uint32_t prune_batch = 1000;      // storage.prune-batch: rows per pruning transaction
  // [mongo]
  std::string mongo_uri = "mongodb://127.0.0.1:27017"; // mongo.uri
  std::string mongo_database = "redis-chat";          // mongo.database
  millis mongo_connect_timeout{5000};                 // mongo.connect-timeout
  // [redis] (see config/redis_uri.hpp for the URI forms)
  std::string redis_uri;            // redis.uri (empty = single node)
  bool redis_cluster = false;       // redis.cluster: Redis Cluster (also via redis+cluster://)
  uint32_t redis_stream_max = 1000; // redis.stream-max: recent messages kept per room stream
  uint32_t redis_dedupe_window = 2000; // redis.dedupe-window: cids remembered per room in Redis
  millis redis_room_idle_ttl{86400000}; // redis.room-idle-ttl: a quiet room's stream and cids
                                        // leave Redis after this
  millis redis_node_ttl{10000};     // redis.node-ttl: a silent node is dead after this
  millis redis_connect_timeout{1000};     // redis.connect-timeout
  millis redis_command_timeout{2000};     // redis.command-timeout: no reply -> connection reset
  millis redis_unavailable_timeout{2000}; // redis.unavailable-timeout: how long commands wait
                                          // for an unreachable Redis before failing
  millis redis_reconnect_min{50};   // redis.reconnect-min: first reconnect delay
  millis redis_reconnect_max{2000}; // redis.reconnect-max: the delay doubles up to this
  micros redis_batch_delay{3000};   // redis.batch-delay: sequencing calls wait this long to share a write
  uint32_t redis_queue_commands = 100000; // redis.queue-commands: unanswered commands at most
  uint64_t redis_queue_bytes = 64ull << 20; // redis.queue-bytes: their bytes at most
  // [security]
  bool allow_anonymous = false;     // security.allow-anonymous: accept ?user=NAME unverified
  std::string at_rest_keys;         // security.at-rest-keys: key file path (empty = off)
  std::string token_key;            // security.token-key: HS256 key file (chatd --gen-token-key)
  millis token_ttl{3600 * 1000};    // security.token-ttl: access token lifetime
  millis refresh_ttl{30LL * 86400 * 1000}; // security.refresh-ttl: refresh token lifetime
  uint32_t password_ops = 2;        // security.password-ops: Argon2id passes (INTERACTIVE)
  uint64_t password_mem = 64 << 20; // security.password-mem: Argon2id memory (INTERACTIVE)
  uint32_t hash_threads = 1;        // security.hash-threads: password hashing threads
  uint32_t hash_queue = 64;         // security.hash-queue: hashes waiting before 503
  uint32_t hash_nice = 10;          // security.hash-nice: niceness of the hashing threads
  uint32_t login_failures_per_ip = 20;  // security.login-failures-per-ip: per window
  uint32_t login_failures_per_user = 5; // security.login-failures-per-user: per window
  millis login_failure_window{60000};   // security.login-failure-window
  // [log]
  std::string log_level = "info";   // log.level: trace, debug, info, warn, error, off
};

struct load_result {
  node_config cfg;
  std::string config_file;           // the INI file read ("" when none)
  std::vector<std::string> caf_args; // arguments left for CAF (its own sections)
  std::string error;                 // non-empty: one line naming the bad key
};

// Reads `--config-file=PATH` (else ./caf-application.conf when present), then applies the
// command-line overrides of our sections. Arguments of other sections go to `caf_args`.
load_result load(const std::vector<std::string>& args);

// Applies the keys of our sections in INI `text` (read from `file_name`); returns an error
// line or "". Other sections are CAF's and are left alone.
std::string apply_ini(node_config& cfg, const std::string& text, const std::string& file_name);

// Applies one `section.key` = `value`; returns an error line or "".
std::string apply(node_config& cfg, const std::string& key, const std::string& value);

// Checks what single keys cannot: combinations (several Redis hosts need a cluster, the TLS
// pair, an admin token off loopback). Returns an error line or "". load() calls it after
// every source was applied.
std::string check(const node_config& cfg);

// Parses "2ms", "500us", "60s", "1min", "12h", "30d"; a bare number means milliseconds.
bool parse_duration(const std::string& text, micros& out);

} // namespace chat::config
