// Strict JSON field access with route-and-field error messages.
#include "json_fields.hpp"

#include "errors.hpp"

#include <rapidjson/error/en.h>

#include <cmath>

namespace chat::chatctl {

json_view::json_view(const rapidjson::Value& value, std::string route, std::string path)
  : value_(value), route_(std::move(route)), path_(std::move(path)) {
  if (!value_.IsObject())
    fail_at(path_, "is not a JSON object");
}

void json_view::fail_at(const std::string& path, const std::string& what) const {
  throw chatctl_error("unexpected answer from " + route_ + ": "
                      + (path.empty() ? "the body" : path) + " " + what);
}

std::string json_view::child(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

const rapidjson::Value& json_view::member(const char* key) const {
  auto it = value_.FindMember(key);
  if (it == value_.MemberEnd())
    fail_at(path_, std::string("has no field '") + key + "'");
  return it->value;
}

json_view json_view::object(const char* key) const {
  auto& v = member(key);
  if (!v.IsObject())
    fail_at(child(key), "is not an object");
  return json_view(v, route_, child(key));
}

std::vector<json_view> json_view::array(const char* key) const {
  auto& v = member(key);
  if (!v.IsArray())
    fail_at(child(key), "is not an array");
  std::vector<json_view> out;
  out.reserve(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i)
    out.emplace_back(v[i], route_, child(key) + "[" + std::to_string(i) + "]");
  return out;
}

std::string json_view::string(const char* key) const {
  auto& v = member(key);
  if (!v.IsString())
    fail_at(child(key), "is not a string");
  return {v.GetString(), v.GetStringLength()};
}

std::string json_view::id(const char* key) const {
  auto& v = member(key);
  if (v.IsString())
    return {v.GetString(), v.GetStringLength()};
  if (v.IsUint64())
    return std::to_string(v.GetUint64());
  if (v.IsInt64())
    return std::to_string(v.GetInt64());
  fail_at(child(key), "is neither a string nor an integer");
}

uint64_t json_view::count(const char* key) const {
  auto& v = member(key);
  if (v.IsUint64())
    return v.GetUint64();
  if (v.IsDouble() && v.GetDouble() >= 0 && std::floor(v.GetDouble()) == v.GetDouble())
    return static_cast<uint64_t>(v.GetDouble());
  fail_at(child(key), "is not a non-negative integer");
}

double json_view::number(const char* key) const {
  auto& v = member(key);
  if (!v.IsNumber())
    fail_at(child(key), "is not a number");
  return v.GetDouble();
}

bool json_view::boolean(const char* key) const {
  auto& v = member(key);
  if (!v.IsBool())
    fail_at(child(key), "is not a boolean");
  return v.GetBool();
}

std::vector<std::string> json_view::strings(const char* key) const {
  auto& v = member(key);
  std::vector<std::string> out;
  bool ok = v.IsArray();
  if (ok) {
    for (auto& e : v.GetArray()) {
      if (!e.IsString()) {
        ok = false;
        break;
      }
      out.emplace_back(e.GetString(), e.GetStringLength());
    }
  }
  if (!ok)
    fail_at(child(key), "is not an array of strings");
  return out;
}

void parse_json(const std::string& body, const std::string& route, rapidjson::Document& doc) {
  doc.Parse(body.c_str(), body.size());
  if (doc.HasParseError())
    throw chatctl_error("unexpected answer from " + route + ": invalid JSON ("
                        + rapidjson::GetParseError_En(doc.GetParseError()) + " at offset "
                        + std::to_string(doc.GetErrorOffset()) + ")");
  if (!doc.IsObject())
    throw chatctl_error("unexpected answer from " + route + ": the body is not a JSON object");
}

} // namespace chat::chatctl
