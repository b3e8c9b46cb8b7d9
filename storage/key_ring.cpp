// key_ring: key file parsing and XChaCha20-Poly1305 sealing of message bodies.
#include "storage/key_ring.hpp"

#include <sodium.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace chat::storage {

namespace {

constexpr size_t nonce_bytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t tag_bytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == key_ring::key_bytes);

void init_sodium() {
  if (sodium_init() < 0)
    throw key_error("libsodium failed to initialize");
}

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos)
    return {};
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

} // namespace

key_ring::~key_ring() {
  for (auto& [id, k] : keys_)
    sodium_memzero(k.data(), k.size());
}

key_ring key_ring::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw key_error("key file " + path + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    throw key_error("key file " + path + ": read error");
  return parse(text.str(), path);
}

key_ring key_ring::parse(std::string_view text, const std::string& name) {
  init_sodium();
  key_ring ring;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    auto line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == ';' || line.front() == '#')
      continue;
    auto where = "key file " + name + ": line " + std::to_string(line_no) + ": ";
    auto sp = line.find_first_of(" \t");
    if (sp == std::string_view::npos)
      throw key_error(where + "expected '<id> <64 hex chars>'");
    auto id_text = line.substr(0, sp);
    auto hex = trim(line.substr(sp));
    uint64_t id = 0;
    for (char c : id_text) {
      if (c < '0' || c > '9' || id > UINT32_MAX)
        throw key_error(where + "key id must be a positive integer");
      id = id * 10 + static_cast<uint64_t>(c - '0');
    }
    if (id == 0 || id > UINT32_MAX)
      throw key_error(where + "key id must be a positive integer");
    if (hex.size() != 2 * key_bytes)
      throw key_error(where + "key must be exactly 64 hex chars, got " +
                      std::to_string(hex.size()));
    key k{};
    size_t decoded = 0;
    const char* hex_end = nullptr;
    if (sodium_hex2bin(k.data(), k.size(), hex.data(), hex.size(), nullptr, &decoded, &hex_end)
          != 0
        || decoded != key_bytes || hex_end != hex.data() + hex.size()) {
      sodium_memzero(k.data(), k.size());
      throw key_error(where + "key is not valid hex");
    }
    if (ring.has(static_cast<uint32_t>(id))) {
      sodium_memzero(k.data(), k.size());
      throw key_error(where + "duplicate key id " + std::to_string(id));
    }
    ring.add(static_cast<uint32_t>(id), k);
    sodium_memzero(k.data(), k.size());
  }
  if (ring.size() == 0)
    throw key_error("key file " + name + ": no keys");
  return ring;
}

std::string key_ring::generate_line(uint32_t id) {
  if (id == 0)
    throw key_error("key id must be a positive integer");
  init_sodium();
  key k{};
  crypto_aead_xchacha20poly1305_ietf_keygen(k.data());
  char hex[2 * key_bytes + 1];
  sodium_bin2hex(hex, sizeof hex, k.data(), k.size());
  sodium_memzero(k.data(), k.size());
  std::string line = std::to_string(id) + " " + hex;
  sodium_memzero(hex, sizeof hex);
  return line;
}

std::string key_ring::message_ad(std::string_view room, uint64_t seq) {
  // "chat-msg-v1" NUL room NUL seq(8 bytes big-endian): unambiguous for any room name.
  std::string ad = "chat-msg-v1";
  ad.push_back('\0');
  ad.append(room);
  ad.push_back('\0');
  for (int shift = 56; shift >= 0; shift -= 8)
    ad.push_back(static_cast<char>((seq >> shift) & 0xff));
  return ad;
}

void key_ring::add(uint32_t id, const key& k) {
  init_sodium();
  if (id == 0)
    throw key_error("key id must be a positive integer");
  if (!keys_.emplace(id, k).second)
    throw key_error("duplicate key id " + std::to_string(id));
}

uint32_t key_ring::current_id() const {
  return keys_.empty() ? 0 : keys_.rbegin()->first;
}

sealed_blob key_ring::encrypt(std::string_view plaintext, std::string_view ad) const {
  if (keys_.empty())
    throw key_error("key ring is empty");
  init_sodium();
  const auto& [id, k] = *keys_.rbegin();
  sealed_blob out;
  out.key_id = id;
  out.blob.resize(nonce_bytes + plaintext.size() + tag_bytes);
  auto* nonce = reinterpret_cast<unsigned char*>(out.blob.data());
  randombytes_buf(nonce, nonce_bytes);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
    nonce + nonce_bytes, &clen, reinterpret_cast<const unsigned char*>(plaintext.data()),
    plaintext.size(), reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr,
    nonce, k.data());
  out.blob.resize(nonce_bytes + clen);
  return out;
}

std::string key_ring::decrypt(uint32_t key_id, std::string_view blob, std::string_view ad) const {
  auto it = keys_.find(key_id);
  if (it == keys_.end())
    throw key_error("unknown key id " + std::to_string(key_id) + " (not in the key file)");
  if (blob.size() < nonce_bytes + tag_bytes)
    throw key_error("encrypted body too short");
  const auto* nonce = reinterpret_cast<const unsigned char*>(blob.data());
  std::string out(blob.size() - nonce_bytes - tag_bytes, '\0');
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
        reinterpret_cast<unsigned char*>(out.data()), &mlen, nullptr, nonce + nonce_bytes,
        blob.size() - nonce_bytes, reinterpret_cast<const unsigned char*>(ad.data()), ad.size(),
        nonce, it->second.data())
      != 0)
    throw key_error("decryption failed with key id " + std::to_string(key_id) +
                    " (wrong key or tampered data)");
  out.resize(mlen);
  return out;
}

} // namespace chat::storage
