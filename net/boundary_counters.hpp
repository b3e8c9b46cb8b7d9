// Counters of the HTTP boundary (relaxed atomics, read by /metrics): accept failures by
// cause, connections shed for want of descriptors, and requests refused by the HTTP layer.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace chat::net {

enum class accept_error { emfile, enfile, enobufs, enomem, other };
constexpr std::array<const char*, 5> accept_error_names = {"emfile", "enfile", "enobufs",
                                                           "enomem", "other"};

enum class http_error { malformed, too_large, timeout };
constexpr std::array<const char*, 3> http_error_names = {"malformed", "too_large", "timeout"};

struct listener_counters {
  std::array<std::atomic<uint64_t>, accept_error_names.size()> accept_errors{};
  // Connections accepted and closed at once because the node was out of descriptors.
  std::atomic<uint64_t> shed{0};
  // TLS handshakes that failed or did not complete within net.http-timeout.
  std::atomic<uint64_t> tls_handshake_failures{0};

  void count(accept_error e) {
    accept_errors[size_t(e)].fetch_add(1, std::memory_order_relaxed);
  }
};

struct http_counters {
  std::array<std::atomic<uint64_t>, http_error_names.size()> errors{};

  void count(http_error e) { errors[size_t(e)].fetch_add(1, std::memory_order_relaxed); }
};

} // namespace chat::net
