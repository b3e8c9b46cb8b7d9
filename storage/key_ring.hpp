// Encryption at rest for message bodies: a ring of numbered 256-bit keys read from a key
// file, XChaCha20-Poly1305 (libsodium). The highest id encrypts; every listed id decrypts,
// so keys rotate by appending a line without rewriting stored history.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace chat::storage {

// Bad key file, unknown key id, or a blob that fails authentication. Not retryable.
struct key_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct sealed_blob {
  uint32_t key_id = 0;
  std::string blob; // 24-byte nonce || ciphertext || 16-byte tag
};

class key_ring {
public:
  static constexpr size_t key_bytes = 32;
  using key = std::array<unsigned char, key_bytes>;

  // Reads a key file: one `<id> <64 hex chars>` per line, id a positive integer; blank lines
  // and lines starting with `;` or `#` are ignored. Throws key_error naming file and line.
  static key_ring load(const std::string& path);
  // Same, from the file's contents; `name` is used in error messages.
  static key_ring parse(std::string_view text, const std::string& name);
  // A new random key line `<id> <hex>` (no newline), for `chatd --gen-key`.
  static std::string generate_line(uint32_t id);
  // Associated data that binds a message body to its row (room, seq).
  static std::string message_ad(std::string_view room, uint64_t seq);

  key_ring() = default;
  key_ring(const key_ring&) = default;
  key_ring& operator=(const key_ring&) = default;
  ~key_ring();

  // Adds a key; throws key_error on id 0 or a duplicate id.
  void add(uint32_t id, const key& k);
  uint32_t current_id() const; // highest id, 0 when empty
  bool has(uint32_t id) const { return keys_.count(id) != 0; }
  size_t size() const { return keys_.size(); }

  // Encrypts with the current key. `ad` is authenticated, not stored.
  sealed_blob encrypt(std::string_view plaintext, std::string_view ad = {}) const;
  // Throws key_error on an unknown key id, a short blob or a failed authentication.
  std::string decrypt(uint32_t key_id, std::string_view blob, std::string_view ad = {}) const;

private:
  std::map<uint32_t, key> keys_;
};

} // namespace chat::storage
