// End-to-end: 20 concurrent senders x 500 messages in one room; every member sees all
// 10,000 messages exactly once, with seq 1..10,000 in order.
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <thread>

using namespace chat::test;

TEST_CASE("20 senders x 500 messages: every member sees seq 1..10000 in order") {
  constexpr int senders = 20;
  constexpr int listeners = 3;
  constexpr int per_sender = 500;
  constexpr uint64_t total = senders * per_sender;
  node_process node({"--storage.backend=memory"});

  std::vector<std::unique_ptr<ws_client>> clients;
  for (int i = 0; i < senders + listeners; ++i) {
    clients.push_back(std::make_unique<ws_client>(node.port(), "user=u" + std::to_string(i)));
    clients.back()->join("load");
  }

  std::atomic<int> failures{0};
  std::vector<std::string> problems(clients.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < clients.size(); ++i) {
    threads.emplace_back([&, i] {
      auto& c = *clients[i];
      bool sender = i < senders;
      try {
        if (sender)
          for (int k = 0; k < per_sender; ++k)
            c.send(send_frame("load", "m" + std::to_string(k), std::to_string(k)));
        uint64_t expect = 1;
        int acks = 0;
        while (expect <= total || (sender && acks < per_sender)) {
          auto f = c.next(std::chrono::milliseconds(20000));
          auto op = f.op();
          if (op == "ack") {
            ++acks;
          } else if (op == "msg") {
            auto seq = f.u64("seq");
            if (seq != expect) {
              problems[i] = "expected seq " + std::to_string(expect) + ", got "
                            + std::to_string(seq);
              ++failures;
              return;
            }
            ++expect;
          } else if (op == "error") {
            problems[i] = "error frame: " + f.raw;
            ++failures;
            return;
          }
        }
      } catch (const std::exception& e) {
        problems[i] = e.what();
        ++failures;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  for (size_t i = 0; i < problems.size(); ++i)
    if (!problems[i].empty())
      FAIL_CHECK("client " << i << ": " << problems[i]);
  CHECK(failures == 0);
}
