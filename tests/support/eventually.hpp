// Waits for a condition instead of sleeping a fixed time (shared by unit and e2e tests).
#pragma once

#include <chrono>
#include <thread>

namespace chat::test {

// Polls `p` until it holds (true) or `limit` has passed (false).
template <class Pred>
bool eventually(Pred p, std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!p()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

} // namespace chat::test
