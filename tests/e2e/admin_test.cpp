// End-to-end: the admin endpoint of a node under real traffic — JSON views agree with what
// the test connected, /metrics counters match what was sent and delivered and pass
// `promtool check metrics`, and operators can close connections and kick users.
#include "support/http_get.hpp"
#include "support/node_process.hpp"
#include "support/ws_client.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <cstdio>
#include <fstream>
#include <memory>

using namespace chat::test;

namespace {

rapidjson::Document get_json(uint16_t port, const std::string& path, int expect = 200) {
  auto r = http_get(port, path);
  REQUIRE(r.status == expect);
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

// Value of an unlabelled (or exactly labelled) sample in Prometheus text.
double metric(const std::string& text, const std::string& series) {
  auto pos = text.find("\n" + series + " ");
  REQUIRE(pos != std::string::npos);
  return std::stod(text.substr(pos + series.size() + 2));
}

} // namespace

TEST_CASE("admin views and metrics agree with the traffic") {
  node_process node({"--storage.backend=memory"});
  std::vector<std::unique_ptr<ws_client>> clients;
  // Room a: 3 members, room b: 2 members; user carol holds two connections.
  const char* users[] = {"alice", "bob", "carol", "carol", "dave"};
  const char* rooms[] = {"a", "a", "a", "b", "b"};
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<ws_client>(node.port(), std::string("user=") + users[i]));
    clients.back()->join(rooms[i]);
  }
  for (int k = 0; k < 10; ++k)
    clients[0]->send(send_frame("a", "hello", "a" + std::to_string(k)));
  for (int k = 0; k < 4; ++k)
    clients[4]->send(send_frame("b", "hi", "b" + std::to_string(k)));
  for (int k = 0; k < 10; ++k)
    for (int i = 0; i < 3; ++i)
      clients[size_t(i)]->next_op("msg");
  for (int k = 0; k < 4; ++k)
    for (int i = 3; i < 5; ++i)
      clients[size_t(i)]->next_op("msg");
  clients[1]->send(R"({"op":"explode"})");
  clients[1]->next_op("error");

  auto rooms_json = get_json(node.admin_port(), "/admin/rooms");
  auto& list = rooms_json["rooms"];
  REQUIRE(list.Size() == 2);
  CHECK(list[0]["id"] == "a");
  CHECK(list[0]["members"].GetUint64() == 3);
  CHECK(list[0]["last_seq"].GetUint64() == 10);
  CHECK(list[1]["id"] == "b");
  CHECK(list[1]["members"].GetUint64() == 2);

  auto room = get_json(node.admin_port(), "/admin/rooms/b");
  CHECK(room["members"].Size() == 2);
  get_json(node.admin_port(), "/admin/rooms/nope", 404);

  auto users_json = get_json(node.admin_port(), "/admin/users");
  REQUIRE(users_json["users"].Size() == 4);
  CHECK(users_json["users"][2]["user"] == "carol");
  CHECK(users_json["users"][2]["connections"].GetUint64() == 2);

  auto conns = get_json(node.admin_port(), "/admin/connections");
  REQUIRE(conns["connections"].Size() == 5);
  CHECK(conns["connections"][0]["user"] == "alice");
  CHECK(conns["connections"][0]["rooms"][0] == "a");

  auto actors = get_json(node.admin_port(), "/admin/actors");
  int room_actors = 0, conn_actors = 0;
  for (auto& a : actors["actors"].GetArray()) {
    room_actors += a["kind"] == "room";
    conn_actors += a["kind"] == "connection";
  }
  CHECK(room_actors == 2);
  CHECK(conn_actors == 5);

  auto node_json = get_json(node.admin_port(), "/admin/node");
  CHECK(node_json["connections"].GetUint64() == 5);
  CHECK(node_json["messages"].GetUint64() == 14);
  CHECK(node_json["deliveries"].GetUint64() == 10 * 3 + 4 * 2);

  auto metrics = http_get(node.admin_port(), "/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metric(metrics.body, "chat_messages_sent_total") == 14);
  CHECK(metric(metrics.body, "chat_deliveries_total") == 38);
  CHECK(metric(metrics.body, "chat_connections") == 5);
  CHECK(metric(metrics.body, "chat_rooms") == 2);
  CHECK(metric(metrics.body, "chat_online_users") == 4);
  CHECK(metric(metrics.body, "chat_acks_total{mode=\"seq\"}") == 14);
  CHECK(metric(metrics.body, "chat_errors_total{code=\"bad_request\"}") == 1);
  CHECK(metric(metrics.body, "chat_send_deliver_seconds_count") == 14);
  // 5 joins + 14 sends + 1 bad frame.
  CHECK(metric(metrics.body, "chat_frames_in_total") == 20);

  auto file = make_temp_dir() + "/metrics.txt";
  std::ofstream(file) << metrics.body;
  CHECK(std::system(("promtool check metrics < " + file + " > " + file + ".out 2>&1").c_str()) == 0);
}

TEST_CASE("operators close connections and kick users") {
  node_process node({"--storage.backend=memory"});
  ws_client a1(node.port(), "user=annoying");
  ws_client a2(node.port(), "user=annoying");
  ws_client b(node.port(), "user=fine");
  auto post = [&](const std::string& path) {
    return http_request(node.admin_port(), "POST", path, {{"Content-Type", "application/json"}},
                        "{}");
  };
  auto kick = post("/admin/users/annoying/kick");
  CHECK(kick.status == 200);
  CHECK(kick.body == R"({"kicked":2})");
  std::string reason;
  CHECK(a1.closed_within(std::chrono::milliseconds(5000), &reason));
  CHECK(reason == "kicked by operator");
  CHECK(a2.closed_within(std::chrono::milliseconds(5000)));
  b.send(R"({"op":"ping"})");
  CHECK(b.next_op("pong").op() == "pong");

  auto id = b.hello().str("session");
  auto conn_id = id.substr(id.rfind('-') + 1);
  CHECK(post("/admin/connections/999999/close").status == 404);
  CHECK(post("/admin/connections/" + conn_id + "/close").status == 200);
  CHECK(b.closed_within(std::chrono::milliseconds(5000)));
  CHECK(http_get(node.admin_port(), "/healthz").status == 200);
  CHECK(http_get(node.admin_port(), "/nope").status == 404);
  // Malformed paths get an answer, never take the node down.
  CHECK(http_get(node.admin_port(), "/admin/rooms/%zz").status == 400);
  CHECK(post("/admin/users/%zz/kick").status == 400);
  CHECK(post("/admin/users/%C3%28/kick").status == 400); // not UTF-8
  CHECK(post("/admin/connections/99999999999999999999999/close").status == 404);
  CHECK(http_request(node.admin_port(), "DELETE", "/admin/rooms").status == 405);
  CHECK(http_get(node.admin_port(), "/healthz").status == 200);
  // Names are percent-decoded per path segment: an escaped '/' stays in the name.
  ws_client odd(node.port(), "user=a.b-c_d");
  auto odd_kick = post("/admin/users/a%2Eb%2Dc_d/kick");
  CHECK(odd_kick.body == R"({"kicked":1})");
  CHECK(odd.closed_within(std::chrono::milliseconds(5000)));
  CHECK(post("/admin/users/a%2Fb/kick").body == R"({"kicked":0})");
}
