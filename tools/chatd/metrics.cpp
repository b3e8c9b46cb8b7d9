// Prometheus text format: one HELP and TYPE line per family, counters end in _total,
// histograms as cumulative _bucket{le=...} series with _sum and _count.
#include "tools/chatd/metrics.hpp"

#include "actors/node_context.hpp"
#include "actors/persistence_pool.hpp"
#include "actors/redis_bridge.hpp"
#include "net/auth/account_service.hpp"
#include "net/client_gate.hpp"
#include "net/origin_policy.hpp"
#include "net/server.hpp"
#include "tools/chatd/admin_snapshot.hpp"

#include <iterator>
#include <sstream>

namespace chat::tools {

namespace {

class exposition {
public:
  void family(const char* name, const char* type, const char* help) {
    out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  }
  // A family of one unlabelled sample.
  void counter(const char* name, const char* help, double value) {
    family(name, "counter", help);
    sample(name, value);
  }
  void gauge(const char* name, const char* help, double value) {
    family(name, "gauge", help);
    sample(name, value);
  }
  void sample(const std::string& name, double value, const std::string& labels = "") {
    out_ << name;
    if (!labels.empty())
      out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
  }
  template <class Bounds, class Counts>
  void histogram(const char* name, const char* help, const Bounds& bounds, const Counts& counts,
                 double sum, uint64_t count) {
    family(name, "histogram", help);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds.size(); ++i) {
      cumulative += counts[i];
      std::ostringstream le;
      le << "le=\"" << bounds[i] << '"';
      sample(std::string(name) + "_bucket", double(cumulative), le.str());
    }
    sample(std::string(name) + "_bucket", double(count), "le=\"+Inf\"");
    sample(std::string(name) + "_sum", sum);
    sample(std::string(name) + "_count", double(count));
  }
  std::string str() const { return out_.str(); }

private:
  std::ostringstream out_;
};

const char* error_names[] = {"bad_request", "unauthorized", "forbidden",   "not_member",
                             "rate_limited", "too_large",   "unavailable", "internal",
                             "conflict"};

struct violation_label {
  const char* code;
  const char* cause;
};
// In the order of ws_violation.
const violation_label violation_labels[ws_violation_kinds] = {
  {"1002", "protocol"}, {"1007", "invalid_utf8"}, {"1009", "too_big"},
  {"1008", "frame_timeout"}, {"1008", "flood"}};
// The HTTP boundary: accept failures, descriptor shedding, refused requests.
void boundary_metrics(exposition& e, const net::server& srv, const net::origin_counters& refused) {
  e.family("chat_accept_errors_total", "counter",
           "Failed accepts by listener and cause (EMFILE, ENFILE: out of descriptors).");
  for (auto [name, counters] : {std::pair{"client", &srv.client_accepts()},
                                std::pair{"admin", &srv.admin_accepts()}})
    for (size_t i = 0; i < net::accept_error_names.size(); ++i)
      e.sample("chat_accept_errors_total", double(counters->accept_errors[i].load()),
               std::string("listener=\"") + name + "\",reason=\"" + net::accept_error_names[i]
                 + "\"");
  e.family("chat_accept_shed_total", "counter",
           "Connections accepted and closed at once because the node was out of descriptors.");
  e.sample("chat_accept_shed_total", double(srv.client_accepts().shed.load()),
           "listener=\"client\"");
  e.sample("chat_accept_shed_total", double(srv.admin_accepts().shed.load()),
           "listener=\"admin\"");
  e.family("chat_tls_handshake_failures_total", "counter",
           "TLS handshakes on the client listener that failed or timed out (net.http-timeout).");
  e.sample("chat_tls_handshake_failures_total",
           double(srv.client_accepts().tls_handshake_failures.load()), "listener=\"client\"");
  e.family("chat_http_errors_total", "counter",
           "HTTP requests refused before routing (malformed, over a limit) or not received in time.");
  for (size_t i = 0; i < net::http_error_names.size(); ++i)
    e.sample("chat_http_errors_total", double(srv.http_errors().errors[i].load()),
             std::string("reason=\"") + net::http_error_names[i] + "\"");
  e.family("chat_admin_refused_total", "counter",
           "Admin requests refused as coming from a browser page of another origin.");
  for (size_t i = 0; i < net::origin_refusal_names.size(); ++i)
    e.sample("chat_admin_refused_total", double(refused.refused[i].load()),
             std::string("reason=\"") + net::origin_refusal_names[i] + "\"");
}

// Accounts, tokens and admission at the client listener.
void auth_metrics(exposition& e, const net::client_gate& gate) {
  e.family("chat_admission_refused_total", "counter",
           "WebSocket upgrades refused after the token check, by reason.");
  const char* admit_reasons[] = {"none", "revoked", "user_connections", "address_connections"};
  static_assert(std::size(admit_reasons) == net::admit_refusal_count);
  for (size_t i = 1; i < net::admit_refusal_count; ++i)
    e.sample("chat_admission_refused_total", double(gate.admit().refusals[i].load()),
             std::string("reason=\"") + admit_reasons[i] + "\"");
  auto* accounts = gate.accounts();
  if (!accounts)
    return;
  auto& c = accounts->counters();
  e.family("chat_auth_events_total", "counter",
           "Account API outcomes: registrations, logins, failures, refreshes, revocations, "
           "throttled attempts, busy or failed store calls.");
  for (size_t i = 0; i < auth::auth_count_names.size(); ++i)
    e.sample("chat_auth_events_total", double(c.events[i].load()),
             std::string("event=\"") + auth::auth_count_names[i] + "\"");
  e.family("chat_token_refusals_total", "counter", "Tokens refused, by reason.");
  const char* token_reasons[] = {"none",    "malformed",  "bad_signature", "expired",
                                 "not_yet_valid", "wrong_kind", "bad_subject", "revoked"};
  static_assert(std::size(token_reasons) == auth::token_error_count);
  for (size_t i = 1; i < auth::token_error_count; ++i)
    e.sample("chat_token_refusals_total", double(c.token_refusals[i].load()),
             std::string("reason=\"") + token_reasons[i] + "\"");
}

// The Socket.IO endpoint: Engine.IO sessions open, opened, and closed by cause.
void socketio_metrics(exposition& e, const net::server& srv, const node_counters& c) {
  e.family("chat_sio_recoveries_total", "counter",
           "Socket.IO connection-state recovery: CONNECTs with a pid (recovered, unknown, "
           "offset_not_found, user_mismatch) and disconnected sockets released (expired, "
           "overflow: past sio.recovery-bytes, sio.recovery-max-sockets or the user's "
           "chat.max-connections-per-user, closed: token expiry or revocation).");
  for (size_t i = 0; i < sio_recovery_results; ++i)
    e.sample("chat_sio_recoveries_total", double(c.sio_recoveries[i].load()),
             std::string("result=\"") + sio_recovery_names[i] + "\"");
  e.gauge("chat_sio_detached", "Socket.IO sockets disconnected and waiting to be recovered.",
          double(c.sio_detached.load()));
  const auto& eio = srv.socketio().sessions();
  e.gauge("chat_sio_sessions", "Open Engine.IO (Socket.IO) sessions.", double(eio.size()));
  e.counter("chat_sio_sessions_opened_total", "Engine.IO sessions opened.", double(eio.opened()));
  e.family("chat_sio_sessions_closed_total", "counter",
           "Engine.IO sessions closed, by cause (protocol_error: malformed input).");
  for (size_t i = 0; i < net::eio::close_causes; ++i) {
    auto cause = net::eio::close_cause(i);
    e.sample("chat_sio_sessions_closed_total", double(eio.closed(cause)),
             std::string("cause=\"") + net::eio::to_string(cause) + "\"");
  }
}

} // namespace

std::string render_metrics(admin_snapshot& snap, const net::origin_counters& refused) {
  auto& ctx = snap.ctx;
  auto presence = snap.presence();
  auto t = snap.totals(presence);
  exposition e;
  e.gauge("chat_connections", "Open WebSocket sessions.", double(t.connections));
  e.counter("chat_connections_opened_total", "WebSocket sessions accepted.",
            double(ctx.counters.connections_total.load()));
  e.gauge("chat_rooms", "Rooms alive on this node.", double(t.rooms));
  e.gauge("chat_online_users", "Users with at least one connection to this node.",
          double(t.online_users));
  e.counter("chat_frames_in_total", "Client frames received.", double(t.frames_in));
  e.counter("chat_frames_out_total", "Frames written to clients.", double(t.frames_out));
  e.counter("chat_messages_sent_total", "Room messages sequenced on this node.",
            double(t.messages));
  e.counter("chat_deliveries_total", "Room messages handed to member connections.",
            double(t.deliveries));
  e.family("chat_acks_total", "counter", "Send acknowledgements by mode.");
  e.sample("chat_acks_total", double(t.acks_seq), "mode=\"seq\"");
  uint64_t acks_persisted = ctx.persistence ? ctx.persistence->details().acks_persisted.load() : 0;
  e.sample("chat_acks_total", double(acks_persisted), "mode=\"persisted\"");
  e.family("chat_errors_total", "counter", "Error frames sent, by code.");
  for (size_t i = 0; i < ctx.counters.errors.size(); ++i)
    e.sample("chat_errors_total", double(ctx.counters.errors[i].load()),
             std::string("code=\"") + error_names[i] + "\"");
  e.counter("chat_rate_limited_frames_total",
            "Client frames refused by the rate limit (rate_limited errors are coalesced).",
            double(ctx.counters.rate_limited_frames.load()));
  e.family("chat_ws_violation_closes_total", "counter",
           "Connections closed for what their client sent, by close code and cause.");
  for (size_t i = 0; i < ws_violation_kinds; ++i)
    e.sample("chat_ws_violation_closes_total", double(ctx.counters.ws_violations[i].load()),
             std::string("code=\"") + violation_labels[i].code + "\",cause=\""
               + violation_labels[i].cause + "\"");
  e.counter("chat_slow_consumer_drops_total",
            "Connections closed because their outbound queue passed net.queue-bytes.",
            double(ctx.counters.slow_consumer_drops.load()));
  boundary_metrics(e, snap.srv, refused);
  auth_metrics(e, snap.srv.gate());
  socketio_metrics(e, snap.srv, ctx.counters);
  e.gauge("chat_outbound_queue_bytes", "Bytes queued for clients, all connections.",
          double(t.queue_bytes));
  auto& c = ctx.counters;
  struct counted {
    const char* name;
    const char* help;
    const std::atomic<uint64_t>& value;
  };
  const counted lifecycle[] = {
    {"chat_rooms_started_total", "Room actors started (first join, or again after a stop).",
     c.rooms_started},
    {"chat_rooms_stopped_total",
     "Room actors stopped (idle, evicted at chat.max-rooms, failed start, shutdown).",
     c.rooms_stopped},
    {"chat_room_start_failures_total", "Room start-ups whose store read failed.",
     c.room_start_failures},
    {"chat_rooms_refused_total", "Joins refused because chat.max-rooms rooms were busy.",
     c.rooms_refused},
    {"chat_store_read_failures_total", "Store reads (start-up, history, replay) that failed.",
     c.store_read_failures},
    {"chat_decrypt_failures_total", "Stored message bodies that failed to decrypt.",
     c.decrypt_failures},
    {"chat_cid_conflicts_total", "Sends answered `conflict`: the user's cid names another message.",
     c.cid_conflicts},
    {"chat_redis_send_failures_total",
     "Sends Redis did not sequence (unreachable, lost or timed out): answered `unavailable`.",
     c.redis_send_failures},
    {"chat_redis_repairs_total", "Gap repairs started (room stream, then store).", c.redis_repairs},
    {"chat_redis_seqs_skipped_total",
     "Seqs neither the room's stream nor the store held (seeding jumps, lost messages).",
     c.redis_seq_skipped},
    {"chat_redis_bad_messages_total", "Messages from Redis that did not decode; dropped.",
     c.redis_bad_messages},
    {"chat_redis_cid_checks_total",
     "Sends whose cid was looked up in the store: Redis had lost the room's dedupe entries.",
     c.redis_cid_checks},
  };
  for (auto& m : lifecycle)
    e.counter(m.name, m.help, double(m.value.load()));
  e.gauge("chat_ring_bytes", "Bytes held by all rooms' replay rings (bounded by chat.memory-max).",
          double(c.ring_bytes.load()));
  e.family("chat_pruned_rows_total", "counter", "Rows deleted by retention, by table.");
  const char* tables[] = {"access_log", "users", "messages"};
  for (size_t i = 0; i < c.pruned.size(); ++i)
    e.sample("chat_pruned_rows_total", double(c.pruned[i].load()),
             std::string("table=\"") + tables[i] + "\"");
  e.counter("chat_prune_failures_total", "Pruning batches that failed (retried next pass).",
            double(c.prune_failures.load()));
  if (ctx.redis) {
    auto& rs = ctx.redis->client.counters();
    const counted client_counters[] = {
      {"chat_redis_commands_total", "Commands accepted for sending to Redis.", rs.commands},
      {"chat_redis_writes_total", "Socket writes to Redis (each carries one or more commands).",
       rs.batches},
      {"chat_redis_error_replies_total", "Commands Redis answered with an error.",
       rs.error_replies},
      {"chat_redis_rejected_total", "Commands refused at once (queue bound or stopped).",
       rs.rejected},
      {"chat_redis_unavailable_total", "Commands failed unsent after redis.unavailable-timeout.",
       rs.unavailable},
      {"chat_redis_lost_total", "Commands in flight when their connection dropped.", rs.lost},
      {"chat_redis_timeouts_total", "Connections reset after redis.command-timeout.",
       rs.timeouts},
      {"chat_redis_redirects_total", "MOVED, ASK, TRYAGAIN and CLUSTERDOWN retries.",
       rs.redirects},
      {"chat_redis_connects_total", "Connections to Redis established.", rs.connects},
      {"chat_redis_connect_failures_total", "Failed connection attempts to Redis.",
       rs.connect_failures},
      {"chat_redis_disconnects_total", "Established Redis connections lost.", rs.disconnects},
      {"chat_redis_channel_messages_total", "Pub/sub messages received from Redis.",
       rs.messages},
      {"chat_redis_bad_replies_total", "Replies or payloads from Redis of an unexpected shape.",
       rs.bad_replies},
      {"chat_redis_noscript_total", "EVALSHA answered NOSCRIPT and re-sent as EVAL.",
       rs.noscript},
      {"chat_redis_resubscribes_total", "Subscriptions re-established after a loss or slot move.",
       rs.resubscribes},
      {"chat_redis_callback_errors_total", "Exceptions thrown by Redis callbacks (logged, dropped).",
       rs.callback_errors},
    };
    for (auto& m : client_counters)
      e.counter(m.name, m.help, double(m.value.load()));
    auto& rv = ctx.redis->revocations;
    e.counter("chat_redis_revocations_unsent_total",
              "Revocations this node could not tell the other nodes (Redis unreachable).",
              double(rv.failed()));
    e.counter("chat_redis_bad_revocations_total",
              "Revocations from Redis that did not decode; dropped.", double(rv.malformed()));
  }
  e.family("chat_actors", "gauge", "Actors by kind.");
  e.sample("chat_actors", double(t.rooms), "kind=\"room\"");
  e.sample("chat_actors", double(t.connections), "kind=\"connection\"");
  e.sample("chat_actors", 1, "kind=\"presence\"");
  e.sample("chat_actors", ctx.persistence ? double(ctx.cfg.writers + 1) : 0, "kind=\"writer\"");
  e.histogram("chat_send_deliver_seconds",
              "From reading a send frame to handing the message to every member's queue.",
              latency_histogram::bounds, t.latency.counts, t.latency.sum, t.latency.count);
  if (ctx.persistence) {
    auto& d = ctx.persistence->details();
    auto ps = ctx.persistence->stats();
    e.gauge("chat_store_backlog", "Messages handed to the store and not committed.",
            double(ps.backlog));
    e.counter("chat_store_batches_total", "Committed persistence batches.", double(ps.batches));
    e.counter("chat_store_messages_total", "Messages committed to the store.", double(ps.stored));
    e.counter("chat_store_failures_total", "Failed commit attempts (retried).",
              double(ps.failures));
    e.gauge("chat_store_backlog_bytes", "Bytes of messages handed to the store and not committed.",
              double(ps.backlog_bytes));
    e.counter("chat_seq_reservations_total", "Seq reservation writes (one per chat.seq-block seqs).",
              double(d.mark_writes.load()));
    e.counter("chat_cids_dropped_total",
              "Messages stored without their cid because another stored message holds it.",
              double(d.cids_dropped.load()));
    e.counter("chat_access_log_dropped_total",
              "Access-log entries dropped while the store failed (past storage.backlog-max).",
              double(d.access_dropped->load()));
    std::array<uint64_t, batch_size_histogram::bounds.size() + 1> sizes{};
    for (size_t i = 0; i < sizes.size(); ++i)
      sizes[i] = d.batch_sizes.counts[i].load();
    e.histogram("chat_store_batch_size", "Messages per committed batch.",
                batch_size_histogram::bounds, sizes, double(d.batch_sizes.sum.load()),
                d.batch_sizes.count.load());
    auto w = d.write_latency.snapshot();
    e.histogram("chat_store_write_seconds", "Duration of one batch commit.",
                latency_histogram::bounds, w.counts, w.sum, w.count);
  }
  return e.str();
}

} // namespace chat::tools
