// Strict reading of the admin endpoint's JSON: every accessor names the route and the
// field in its error, so a disagreement with docs/ADMIN.md is reported precisely.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <vector>

namespace chat::chatctl {

// A JSON object plus where it came from (route "/admin/rooms", path "rooms[2]").
class json_view {
public:
  json_view(const rapidjson::Value& value, std::string route, std::string path = "");

  json_view object(const char* key) const;
  std::vector<json_view> array(const char* key) const;
  std::string string(const char* key) const;
  // A string or an integer, as text (ids may be either).
  std::string id(const char* key) const;
  uint64_t count(const char* key) const;
  double number(const char* key) const;
  bool boolean(const char* key) const;
  std::vector<std::string> strings(const char* key) const;

private:
  const rapidjson::Value& member(const char* key) const;
  std::string child(const std::string& key) const;
  [[noreturn]] void fail_at(const std::string& path, const std::string& what) const;

  const rapidjson::Value& value_;
  std::string route_;
  std::string path_;
};

// Parses `body`; throws chatctl_error naming `route` when it is not a JSON object.
void parse_json(const std::string& body, const std::string& route, rapidjson::Document& doc);

} // namespace chat::chatctl
