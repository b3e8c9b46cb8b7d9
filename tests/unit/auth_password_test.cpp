// Password hashing (Argon2id) and its bounded worker pool; account name rules.
#include "net/auth/password_pool.hpp"
#include "net/auth/username.hpp"

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
  auto h = password_pool::hash_now("correct horse", fast);
  REQUIRE(h.rfind("$argon2id$", 0) == 0);
  CHECK(password_pool::verify_now(h, "correct horse"));
  CHECK_FALSE(password_pool::verify_now(h, "correct horse "));
  CHECK_FALSE(password_pool::verify_now(h, ""));
  CHECK_FALSE(password_pool::verify_now("", "correct horse"));
  CHECK_FALSE(password_pool::verify_now("$argon2id$garbage", "correct horse"));
  CHECK(password_pool::hash_now("correct horse", fast) != h); // salted
}

TEST_CASE("the pool hashes and verifies off the caller's thread") {
  password_pool pool(2, 16, fast, 0);
  std::promise<std::string> hashed;
  REQUIRE(pool.hash("pw", [&](std::string h) { hashed.set_value(std::move(h)); }));
  auto h = hashed.get_future().get();
  std::promise<bool> a, b;
  REQUIRE(pool.verify(h, "pw", [&](bool ok) { a.set_value(ok); }));
  REQUIRE(pool.verify(h, "nope", [&](bool ok) { b.set_value(ok); }));
  CHECK(a.get_future().get());
  CHECK_FALSE(b.get_future().get());
}

TEST_CASE("the pool refuses work past its queue bound") {
  password_pool pool(1, 2, fast, 0);
  std::atomic<int> done{0};
  int accepted = 0;
  for (int i = 0; i < 20; ++i)
    accepted += pool.hash("pw", [&](std::string) { ++done; }) ? 1 : 0;
  CHECK(accepted >= 2);
  CHECK(accepted <= 3); // the queue holds 2; one may already be running
  while (done < accepted)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(pool.queued() == 0);
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
