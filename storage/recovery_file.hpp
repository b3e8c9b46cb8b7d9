// Recovery files: what the store could not take at shutdown, saved in the data directory so
// that the next start stores it first (nothing acknowledged is lost). One file per failed
// shutdown, `recovery-<ms since epoch>.chat`, written to a temporary name, synced and
// renamed, so a file that exists is complete. With a key ring the contents are sealed
// (XChaCha20-Poly1305 under the current key, bound to the file's role), like stored bodies.
#pragma once

#include "storage/key_ring.hpp"
#include "storage/message_store.hpp"

#include <string>
#include <vector>

namespace chat::storage {

struct recovery_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Writes `messages` to a new recovery file in `dir`; returns its path. Throws
// recovery_error naming the file when it cannot be written.
std::string write_recovery(const std::string& dir, const std::vector<stored_message>& messages,
                           const key_ring* keys);

// Recovery files in `dir`, oldest first.
std::vector<std::string> recovery_files(const std::string& dir);

// The key id a recovery file was sealed with (0: plain). Throws recovery_error.
uint32_t recovery_key_id(const std::string& path);

// Reads a recovery file. Throws recovery_error on a malformed file and key_error when it is
// sealed under a key `keys` does not hold (or `keys` is null).
std::vector<stored_message> read_recovery(const std::string& path, const key_ring* keys);

} // namespace chat::storage
