// Unit: configuration parsing and validation — defaults, INI sections, command-line
// overrides, and one clear error naming the key for every kind of bad value.
#include "config/ini_reader.hpp"
#include "config/node_config.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <unistd.h>

using namespace chat::config;

TEST_CASE("defaults match the documented fixed keys") {
  // Anonymous access is off by default; without a token key the node starts and refuses
  // every client (it says so in one warning line).
  auto keyless = load({});
  CHECK(keyless.error.empty());
  CHECK_FALSE(keyless.cfg.allow_anonymous);
  auto r = load({"--security.token-key=token.key"});
  REQUIRE(r.error.empty());
  CHECK(r.cfg.token_ttl == millis(3600000));
  CHECK(r.cfg.refresh_ttl == millis(30LL * 86400000));
  CHECK(r.cfg.allowed_origins == std::vector<std::string>{"self"});
  CHECK(r.cfg.tls_cert.empty());
  CHECK(r.cfg.max_connections_per_ip == 1000);
  CHECK(r.cfg.max_connections_per_user == 100);
  CHECK(r.cfg.host == "0.0.0.0");
  CHECK(r.cfg.admin_host == "127.0.0.1");
  CHECK(r.cfg.backend == "sqlite");
  CHECK(r.cfg.path == "./data");
  CHECK(r.cfg.mongo_uri == "mongodb://127.0.0.1:27017");
  CHECK(r.cfg.mongo_database == "redis-chat");
  CHECK(r.cfg.redis_uri.empty());
  CHECK(r.cfg.max_frame_bytes == 65536);
  CHECK(r.cfg.batch_delay == micros(5000));
  CHECK(r.cfg.lazy_delay == micros(100000));
  CHECK(r.cfg.batch_max == 5000);
  CHECK(r.cfg.frame_timeout == millis(10000));
  CHECK(r.cfg.flood_close_after == millis(5000));
  CHECK(r.cfg.net_batch_delay == micros(2000));
  CHECK_FALSE(r.cfg.node.empty());
}

TEST_CASE("command-line overrides of our sections; the rest goes to CAF") {
  auto r = load({"--security.allow-anonymous=true", "--net.port=0", "--admin.port=0",
                 "--chat.node=n1", "--storage.batch-delay=5ms",
                 "--storage.lazy-delay=250ms",
                 "--net.queue-bytes=1MiB", "--scheduler.max-threads=2", "--net.idle-timeout=2s",
                 "--net.frame-timeout=500ms", "--chat.flood-close-after=0",
                 "--net.batch-delay=250us"});
  REQUIRE(r.error.empty());
  CHECK(r.cfg.port == 0);
  CHECK(r.cfg.admin_port == 0);
  CHECK(r.cfg.node == "n1");
  CHECK(r.cfg.batch_delay == micros(5000));
  CHECK(r.cfg.lazy_delay == micros(250000));
  CHECK(r.cfg.queue_bytes == 1u << 20);
  CHECK(r.cfg.idle_timeout == millis(2000));
  CHECK(r.cfg.frame_timeout == millis(500));
  CHECK(r.cfg.flood_close_after == millis(0));
  CHECK(r.cfg.net_batch_delay == micros(250));
  CHECK(load({"--net.batch-delay=0"}).cfg.net_batch_delay == micros(0));
  CHECK(r.caf_args == std::vector<std::string>{"--scheduler.max-threads=2"});
}

TEST_CASE("lists, origins, proxies and the keys that depend on each other") {
  auto r = load({"--security.token-key=k", "--net.allowed-origins=https://a.example, http://b:8080",
                 "--net.trusted-proxies=10.0.0.0/8,::1", "--security.token-ttl=1h",
                 "--security.refresh-ttl=7d", "--security.password-mem=8MiB"});
  REQUIRE(r.error.empty());
  CHECK(r.cfg.allowed_origins == std::vector<std::string>{"https://a.example", "http://b:8080"});
  CHECK(r.cfg.trusted_proxies == std::vector<std::string>{"10.0.0.0/8", "::1"});
  CHECK(r.cfg.token_ttl == millis(3600000));
  CHECK(r.cfg.refresh_ttl == millis(7LL * 86400000));
  CHECK(r.cfg.password_mem == 8u << 20);
  CHECK(load({"--security.token-key=k", "--net.allowed-origins=*"}).cfg.allowed_origins
        == std::vector<std::string>{"*"});
  // Both TLS keys: accepted here; the files are read (and matched) when the node starts.
  auto tls = load({"--security.token-key=k", "--net.tls-cert=c.pem", "--net.tls-key=k.pem"});
  CHECK(tls.error.empty());
  CHECK(tls.cfg.tls_cert == "c.pem");
  CHECK(tls.cfg.tls_key == "k.pem");
  struct { std::vector<std::string> args; const char* key; } cases[] = {
    {{"--net.tls-cert=c.pem"}, "net.tls-key"},
    {{"--net.tls-key=k.pem"}, "net.tls-cert"},
    {{"--admin.host=0.0.0.0"}, "admin.token"},
    {{"--admin.host=localhost"}, "admin.host"},
    {{"--admin.token=short"}, "admin.token"},
    {{"--net.allowed-origins=https://a.example/"}, "net.allowed-origins"},
    {{"--net.allowed-origins=a.example"}, "net.allowed-origins"},
    {{"--net.allowed-origins=https://a,,https://b"}, "net.allowed-origins"},
    {{"--net.trusted-proxies=10.0.0.0/33"}, "net.trusted-proxies"},
    {{"--net.trusted-proxies=proxy.local"}, "net.trusted-proxies"},
    {{"--security.token-ttl=1s"}, "security.token-ttl"},
    {{"--security.password-mem=1KiB"}, "security.password-mem"},
    {{"--security.hash-nice=20"}, "security.hash-nice"},
    {{"--chat.user-rate-limit=0"}, "chat.user-rate-limit"},
    {{"--net.max-connections-per-ip=0"}, "net.max-connections-per-ip"},
  };
  for (auto& c : cases) {
    auto args = c.args;
    args.push_back("--security.token-key=k");
    INFO(args.front());
    auto bad = load(args);
    CHECK(bad.error.find(c.key) != std::string::npos);
    CHECK(bad.error.find('\n') == std::string::npos);
  }
  CHECK(load({"--security.token-key=k", "--admin.host=0.0.0.0",
              "--admin.token=0123456789abcdef"}).error.empty());
}

TEST_CASE("bad values and unknown keys name the key") {
  struct { const char* arg; const char* key; } cases[] = {
    {"--net.port=65536", "net.port"}, {"--net.port=-1", "net.port"}, {"--net.port=", "net.port"},
    {"--admin.port=x", "admin.port"}, {"--net.max-frame-bytes=1", "net.max-frame-bytes"},
    {"--storage.backend=oracle", "storage.backend"}, {"--storage.writers=0", "storage.writers"},
    {"--storage.batch-delay=fast", "storage.batch-delay"},
    {"--storage.lazy-delay=-1ms", "storage.lazy-delay"},
    {"--security.allow-anonymous=yes", "security.allow-anonymous"},
    {"--redis.uri=http://x", "redis.uri"}, {"--chat.rate-limit=0", "chat.rate-limit"},
    {"--net.nope=1", "net.nope"}, {"--chat.node=", "chat.node"}, {"--net.port", "net.port"},
    {"--log.level=loud", "log.level"}, {"--net.frame-timeout=10ms", "net.frame-timeout"},
    {"--net.frame-timeout=soon", "net.frame-timeout"},
    {"--net.batch-delay=101ms", "net.batch-delay"}, {"--net.batch-delay=x", "net.batch-delay"},
    {"--chat.flood-close-after=-1s", "chat.flood-close-after"},
    {"--sio.ping-interval=1ms", "sio.ping-interval"}, {"--sio.ping-timeout=x", "sio.ping-timeout"},
    {"--sio.max-payload=10", "sio.max-payload"}, {"--sio.max-sessions=0", "sio.max-sessions"},
    {"--sio.connect-timeout=0", "sio.connect-timeout"},
    {"--sio.upgrade-timeout=1ms", "sio.upgrade-timeout"},
    {"--sio.connection-state-recovery=on", "sio.connection-state-recovery"},
    {"--sio.max-disconnection-duration=1ms", "sio.max-disconnection-duration"},
    {"--sio.recovery-bytes=10", "sio.recovery-bytes"},
    {"--sio.recovery-frames=0", "sio.recovery-frames"},
    {"--sio.recovery-max-sockets=0", "sio.recovery-max-sockets"},
    {"--net.allowed-origins=chat.example.com", "net.allowed-origins"},
    {"--net.allowed-origins=https://a.example/path", "net.allowed-origins"},
    {"--net.allowed-origins=https://a.example,,https://b.example", "net.allowed-origins"},
  };
  for (auto& c : cases) {
    INFO(c.arg);
    auto r = load({c.arg});
    CHECK(r.error.find(c.key) != std::string::npos);
    CHECK(r.error.find('\n') == std::string::npos);
  }
}

TEST_CASE("allowed origins: a comma-separated list, self by default, empty when set so") {
  CHECK(load({}).cfg.allowed_origins == std::vector<std::string>{"self"});
  CHECK(load({"--net.allowed-origins="}).cfg.allowed_origins.empty());
  auto r = load({"--net.allowed-origins=https://a.example, http://b.example:8080,*,self"});
  REQUIRE(r.error.empty());
  CHECK(r.cfg.allowed_origins
        == std::vector<std::string>{"https://a.example", "http://b.example:8080", "*", "self"});
}

TEST_CASE("Socket.IO settings") {
  auto r = load({"--sio.ping-interval=300ms", "--sio.ping-timeout=200ms", "--sio.max-payload=1MiB",
                 "--net.http-body-limit=1MiB", "--sio.max-sessions=10", "--sio.connect-timeout=2s",
                 "--sio.upgrade-timeout=1s"});
  REQUIRE(r.error.empty());
  CHECK(r.cfg.sio_ping_interval == millis(300));
  CHECK(r.cfg.sio_ping_timeout == millis(200));
  CHECK(r.cfg.sio_max_payload == 1u << 20);
  CHECK(r.cfg.sio_max_sessions == 10);
  CHECK(r.cfg.sio_connect_timeout == millis(2000));
  CHECK(r.cfg.sio_upgrade_timeout == millis(1000));
  CHECK_FALSE(r.cfg.sio_recovery); // connection-state recovery is off by default
  auto rec = load({"--sio.connection-state-recovery=true", "--sio.max-disconnection-duration=5s",
                   "--sio.recovery-bytes=64KiB", "--sio.recovery-frames=50",
                   "--sio.recovery-max-sockets=7"});
  REQUIRE(rec.error.empty());
  CHECK(rec.cfg.sio_recovery);
  CHECK(rec.cfg.sio_recovery_duration == millis(5000));
  CHECK(rec.cfg.sio_recovery_bytes == 64u << 10);
  CHECK(rec.cfg.sio_recovery_frames == 50);
  CHECK(rec.cfg.sio_recovery_max_detached == 7);
  // With recovery on, what one socket may hold must fit a polling queue twice.
  auto big = load({"--sio.connection-state-recovery=true", "--sio.recovery-bytes=3MiB"});
  CHECK(big.error.find("sio.recovery-bytes") != std::string::npos);
  CHECK(load({"--sio.recovery-bytes=3MiB"}).error.empty()); // unused while off
}

TEST_CASE("the INI file is read; command line wins over it") {
  auto path = std::string("/tmp/chat-config-test-") + std::to_string(::getpid()) + ".conf";
  std::ofstream(path) << "; comment\n[scheduler]\npolicy='sharing'\n[net]\nport=9001 ; trailing\n"
                         "host=\"127.0.0.1\"\n[chat]\nnode=\"from-file\"\n";
  auto r = load(std::vector<std::string>{"--config-file=" + path, "--chat.node=from-cli",
                                        "--security.allow-anonymous=true"});
  REQUIRE(r.error.empty());
  CHECK(r.cfg.port == 9001);
  CHECK(r.cfg.host == "127.0.0.1");
  CHECK(r.cfg.node == "from-cli");
  CHECK(r.config_file == path);

  std::ofstream(path) << "[storage]\nbatch-max=many\n";
  auto bad = load(std::vector<std::string>{"--config-file=" + path});
  CHECK(bad.error.find("storage.batch-max") != std::string::npos);
  CHECK(bad.error.find(path) != std::string::npos);

  std::ofstream(path) << "[net]\nwhat=1\n";
  CHECK(load(std::vector<std::string>{"--config-file=" + path}).error.find("unknown key 'net.what'") != std::string::npos);
  std::remove(path.c_str());
  CHECK_FALSE(load(std::vector<std::string>{"--config-file=" + path}).error.empty());
}

TEST_CASE("INI syntax errors carry the line number") {
  CHECK_THROWS_WITH(parse_ini("[a]\nnot a pair\n"), Catch::Contains("2:"));
  CHECK_THROWS_WITH(parse_ini("[a\n"), Catch::Contains("1:"));
  CHECK_THROWS_WITH(parse_ini("k=v\n"), Catch::Contains("outside"));
  auto ini = parse_ini("[s]\nk = \"a;b\" ; c\n");
  CHECK(ini["s"]["k"] == "a;b");
}

TEST_CASE("durations") {
  micros d;
  CHECK(parse_duration("2ms", d));
  CHECK(d == micros(2000));
  CHECK(parse_duration("500us", d));
  CHECK(d == micros(500));
  CHECK(parse_duration("1min", d));
  CHECK(d == micros(60000000));
  CHECK(parse_duration("15", d));
  CHECK(d == micros(15000));
  CHECK(parse_duration("2h", d));
  CHECK(d == micros(7200000000ll));
  CHECK(parse_duration("30d", d));
  CHECK(d == micros(30ll * 86400000000ll));
  CHECK_FALSE(parse_duration("ms", d));
  CHECK_FALSE(parse_duration("1w", d));
  CHECK_FALSE(parse_duration("d", d));
}

TEST_CASE("[redis] keys: defaults, values, and what only makes sense together") {
  auto d = load({});
  REQUIRE(d.error.empty());
  CHECK_FALSE(d.cfg.redis_cluster);
  CHECK(d.cfg.redis_stream_max == 1000);
  CHECK(d.cfg.redis_node_ttl == millis(10000));
  CHECK(d.cfg.redis_unavailable_timeout == millis(2000));
  CHECK(d.cfg.redis_batch_delay == micros(3000));

  auto r = load({"--redis.uri=redis+cluster://127.0.0.1:7000,127.0.0.1:7001",
                 "--redis.stream-max=500", "--redis.node-ttl=3s", "--redis.command-timeout=250ms",
                 "--redis.unavailable-timeout=0", "--redis.reconnect-max=5s",
                 "--redis.queue-commands=10", "--redis.queue-bytes=1MiB",
                 "--redis.dedupe-window=50", "--redis.room-idle-ttl=10min",
                 "--redis.batch-delay=500us"});
  REQUIRE(r.error.empty());
  CHECK(r.cfg.redis_stream_max == 500);
  CHECK(r.cfg.redis_node_ttl == millis(3000));
  CHECK(r.cfg.redis_command_timeout == millis(250));
  CHECK(r.cfg.redis_unavailable_timeout == millis(0));
  CHECK(r.cfg.redis_reconnect_max == millis(5000));
  CHECK(r.cfg.redis_queue_commands == 10);
  CHECK(r.cfg.redis_queue_bytes == 1u << 20);
  CHECK(r.cfg.redis_dedupe_window == 50);
  CHECK(r.cfg.redis_room_idle_ttl == millis(600000));
  CHECK(r.cfg.redis_batch_delay == micros(500));
  CHECK(load({"--redis.batch-delay=0ms"}).cfg.redis_batch_delay == micros(0));

  struct { std::vector<std::string> args; const char* key; } bad[] = {
    {{"--redis.uri=redis://a:1,b:2"}, "redis.uri"}, // several hosts without a cluster
    {{"--redis.uri=redis://h/3", "--redis.cluster=true"}, "redis.uri"},
    {{"--redis.uri=redis+cluster://h/3"}, "redis.uri"},
    {{"--redis.uri=redis://h:0"}, "redis.uri"},
    {{"--redis.cluster=1"}, "redis.cluster"},
    {{"--redis.stream-max=0"}, "redis.stream-max"},
    {{"--redis.node-ttl=100ms"}, "redis.node-ttl"},
    {{"--redis.command-timeout=1ms"}, "redis.command-timeout"},
    {{"--redis.queue-commands=0"}, "redis.queue-commands"},
    {{"--redis.room-idle-ttl=10ms"}, "redis.room-idle-ttl"},
    {{"--redis.queue-bytes=1KiB"}, "redis.queue-bytes"},
    {{"--redis.batch-delay=1s"}, "redis.batch-delay"},
    {{"--redis.batch-delay=soon"}, "redis.batch-delay"},
    {{"--redis.reconnect-min=3s", "--redis.reconnect-max=1s"}, "redis.reconnect-min"},
  };
  for (auto& b : bad) {
    INFO(b.args[0]);
    auto res = load(b.args);
    CHECK(res.error.find(b.key) != std::string::npos);
    CHECK(res.error.find('\n') == std::string::npos);
  }
  CHECK(load({"--redis.uri=redis://a:1,b:2", "--redis.cluster=true"}).error.empty());
}
