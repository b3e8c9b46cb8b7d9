// What end-to-end tests read from a running node besides its protocol: a /metrics sample,
// its resident memory, a room's whole history, a key file for encryption at rest, what its
// SQLite database holds.
#pragma once

#include "support/ws_client.hpp"

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace chat::test {

// Value of an unlabelled sample (or a series with its labels) of the node's /metrics.
double metric(uint16_t admin_port, const std::string& series);
// Resident set size of a process in KiB (/proc/PID/status).
uint64_t rss_kib(pid_t pid);
// Under AddressSanitizer freed memory waits in quarantine: RSS bounds cannot be checked.
// (gcc says so with __SANITIZE_ADDRESS__, clang with __has_feature.)
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool sanitized = true;
#elif defined(__has_feature)
inline constexpr bool sanitized = __has_feature(address_sanitizer);
#else
inline constexpr bool sanitized = false;
#endif
inline constexpr bool rss_is_meaningful = !sanitized;
// Bounds on wall time that a product promises (shutdown within seconds) hold for a release
// build; instrumented code runs about this many times slower.
inline constexpr int sanitizer_slowdown = sanitized ? 3 : 1;
// A room's whole history, oldest first (seq, text), paging back with `before`.
std::vector<std::pair<uint64_t, std::string>> history_of(ws_client& c, const std::string& room);
// The output of the sqlite3 shell running `sql` on the database file `db` (throws when it
// fails). SQL without double quotes.
std::string sqlite_query(const std::string& db, const std::string& sql);
// Writes a new at-rest key with `id` (chatd --gen-key) to a file in `dir`; its path.
std::string key_file(const std::string& dir, uint32_t id);

} // namespace chat::test
