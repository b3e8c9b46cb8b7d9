// Password hashing (Argon2id), the bounded work pool, and account name rules.
#include "net/auth/password_hash.hpp"
#include "net/auth/username.hpp"
#include "net/auth/work_pool.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

using namespace chat::auth;

namespace {
// Small limits keep the test fast; the algorithm is the same.
const pwhash_limits fast{1, 8 << 20};
} // namespace

TEST_CASE("a password hash verifies the password and nothing else") {
  auto h = hash_password("correct horse", fast);
  REQUIRE(h.rfind("$argon2id$", 0) == 0);
  CHECK(verify_password(h, "correct horse"));
  CHECK_FALSE(verify_password(h, "correct horse "));
  CHECK_FALSE(verify_password(h, ""));
  CHECK_FALSE(verify_password("", "correct horse"));
  CHECK_FALSE(verify_password("$argon2id$garbage", "correct horse"));
  CHECK_FALSE(verify_password(std::string(200, '$'), "correct horse"));
  CHECK(hash_password("correct horse", fast) != h); // salted
  // Bytes, not text: an embedded NUL is part of the password.
  auto nul = hash_password(std::string("ab\0cd", 5), fast);
  CHECK(verify_password(nul, std::string("ab\0cd", 5)));
  CHECK_FALSE(verify_password(nul, "ab"));
}

TEST_CASE("the pool runs jobs off the caller's thread and says how long they waited") {
  work_pool pool("test", 2, 16, 0);
  std::promise<std::thread::id> ran;
  std::promise<std::chrono::steady_clock::duration> waited;
  REQUIRE(pool.submit([&](std::chrono::steady_clock::duration w) {
    waited.set_value(w);
    ran.set_value(std::this_thread::get_id());
  }));
  CHECK(ran.get_future().get() != std::this_thread::get_id());
  CHECK(waited.get_future().get() >= std::chrono::steady_clock::duration::zero());
}

TEST_CASE("the pool refuses work past its queue bound, and a throwing job kills nothing") {
  work_pool pool("test", 1, 2, 0);
  std::promise<void> release;
  auto gate = release.get_future().share();
  std::atomic<int> done{0};
  REQUIRE(pool.submit([gate, &done](auto) {
    gate.wait();
    ++done;
  }));
  // The worker holds the first job (give it the time to take it), so the queue holds 2.
  while (pool.queued() != 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(pool.submit([&](auto) { throw std::runtime_error("job failed"); }));
  CHECK(pool.submit([&](auto) { ++done; }));
  CHECK_FALSE(pool.submit([&](auto) { ++done; }));
  CHECK(pool.refused() == 1);
  release.set_value();
  while (done < 2)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(pool.queued() == 0);
}

TEST_CASE("the pool finishes queued jobs before it is destroyed") {
  std::atomic<int> done{0};
  {
    work_pool pool("test", 1, 8, 0);
    for (int i = 0; i < 5; ++i)
      REQUIRE(pool.submit([&](auto) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        ++done;
      }));
  }
  CHECK(done == 5);
}

TEST_CASE("account names are ASCII, 3..32 characters, folded to lower case") {
  CHECK(canonical_username("Alice") == "alice");
  CHECK(canonical_username("bob_99") == "bob_99");
  CHECK(canonical_username("a.b-c") == "a.b-c");
  CHECK(canonical_username("abc") == "abc");
  CHECK(canonical_username(std::string(32, 'x')) == std::string(32, 'x'));
  std::vector<std::string> bad_names = {"",       "ab",     std::string(33, 'x'),
                                        "_abc",   ".abc",   "-abc",
                                        "al ice", "ålice",  std::string("al\0ce", 5),
                                        "al/ice", "al:ice", "alice\xff"};
  for (const auto& bad : bad_names)
    CHECK(canonical_username(bad).empty());
}
