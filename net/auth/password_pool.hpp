// Password hashing (Argon2id through libsodium's crypto_pwhash_str) on a small pool of
// worker threads with a bounded queue, so a login storm costs queue slots, never the
// network or actor threads. Results come back on a worker thread through the callback.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace chat::auth {

struct pwhash_limits {
  uint64_t ops = 2;              // crypto_pwhash_OPSLIMIT_INTERACTIVE
  uint64_t mem_bytes = 64 << 20; // crypto_pwhash_MEMLIMIT_INTERACTIVE
};

class password_pool {
public:
  // hash: the encoded hash ("" on failure, e.g. out of memory); verify: true on a match.
  using hash_done = std::function<void(std::string hash)>;
  using verify_done = std::function<void(bool ok)>;

  // `nice` (0..19) lowers the workers' scheduling priority below the live path's.
  password_pool(unsigned threads, size_t max_queue, pwhash_limits limits, int nice = 10);
  ~password_pool();
  password_pool(const password_pool&) = delete;
  password_pool& operator=(const password_pool&) = delete;

  // False (and no callback) when the queue is full: answer 429/503 to the client.
  bool hash(std::string password, hash_done done);
  bool verify(std::string hash, std::string password, verify_done done);
  size_t queued() const;

  // Synchronous versions (tests, tools).
  static std::string hash_now(const std::string& password, pwhash_limits limits);
  static bool verify_now(const std::string& hash, const std::string& password);

private:
  bool submit(std::function<void()> job);
  void run();

  pwhash_limits limits_;
  size_t max_queue_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

} // namespace chat::auth
