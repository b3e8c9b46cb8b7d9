// Argon2id hashing pool (see password_pool.hpp).
#include "net/auth/password_pool.hpp"

#include <sodium.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace chat::auth {

password_pool::password_pool(unsigned threads, size_t max_queue, pwhash_limits limits, int nice)
  : limits_(limits), max_queue_(max_queue) {
  for (unsigned i = 0; i < std::max(1u, threads); ++i)
    threads_.emplace_back([this, nice] {
      // Linux applies niceness per thread.
      if (nice > 0)
        setpriority(PRIO_PROCESS, id_t(::syscall(SYS_gettid)), nice);
      run();
    });
}

password_pool::~password_pool() {
  {
    std::lock_guard<std::mutex> guard(mtx_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_)
    t.join();
}

std::string password_pool::hash_now(const std::string& password, pwhash_limits limits) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), limits.ops, size_t(limits.mem_bytes))
      != 0)
    return {};
  return out;
}

bool password_pool::verify_now(const std::string& hash, const std::string& password) {
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES)
    return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool password_pool::hash(std::string password, hash_done done) {
  return submit([this, password = std::move(password), done = std::move(done)]() mutable {
    auto h = hash_now(password, limits_);
    sodium_memzero(password.data(), password.size());
    done(std::move(h));
  });
}

bool password_pool::verify(std::string hash, std::string password, verify_done done) {
  return submit([hash = std::move(hash), password = std::move(password),
                 done = std::move(done)]() mutable {
    bool ok = verify_now(hash, password);
    sodium_memzero(password.data(), password.size());
    done(ok);
  });
}

size_t password_pool::queued() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return jobs_.size();
}

bool password_pool::submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (stopping_ || jobs_.size() >= max_queue_)
      return false;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void password_pool::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mtx_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty())
        return; // stopping and drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

} // namespace chat::auth
