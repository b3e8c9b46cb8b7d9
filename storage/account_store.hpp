// The accounts seam: what registration, login, token refresh and revocation need from the
// user store. Accounts live in the existing users table / collection (unique username):
// a row that presence created for an anonymous name has no password and can be claimed
// by registering. SQLite and MongoDB implement it beside user_store; memory_account_store
// serves storage.backend=memory and the tests.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace chat::storage {

struct account {
  std::string username;
  std::string password_hash;        // "" when the name has no password (not registered)
  int64_t tokens_valid_after_s = 0; // tokens issued at or before this second are revoked
};

class account_store {
public:
  virtual ~account_store() = default;
  // Registers `username` with `password_hash`; false when the name already has a password.
  // Throws store_error when the store failed (the caller may retry).
  virtual bool create_account(const std::string& username, const std::string& password_hash,
                              int64_t now_ms) = 0;
  // The account, or nullopt when no row has that name.
  virtual std::optional<account> find_account(const std::string& username) = 0;
  // Revokes every token of `username` issued at or before `at_s` (never moves the mark
  // back). Works for names without a password too (tokens minted by another service).
  virtual void revoke_tokens(const std::string& username, int64_t at_s) = 0;
};

// Accounts in memory (storage.backend=memory, tests): gone when the process ends.
class memory_account_store final : public account_store {
public:
  bool create_account(const std::string& username, const std::string& password_hash,
                      int64_t) override {
    std::lock_guard<std::mutex> guard(mtx_);
    auto& a = rows_[username];
    if (!a.password_hash.empty())
      return false;
    a.username = username;
    a.password_hash = password_hash;
    return true;
  }
  std::optional<account> find_account(const std::string& username) override {
    std::lock_guard<std::mutex> guard(mtx_);
    auto i = rows_.find(username);
    if (i == rows_.end())
      return std::nullopt;
    return i->second;
  }
  void revoke_tokens(const std::string& username, int64_t at_s) override {
    std::lock_guard<std::mutex> guard(mtx_);
    auto& a = rows_[username];
    a.username = username;
    a.tokens_valid_after_s = std::max(a.tokens_valid_after_s, at_s);
  }

private:
  std::mutex mtx_;
  std::unordered_map<std::string, account> rows_;
};

} // namespace chat::storage
