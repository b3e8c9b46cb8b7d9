// Small INI parser for the node's own sections: `[section]`, `key=value`, `;` comments.
#include "config/ini_reader.hpp"

#include <sstream>
#include <stdexcept>

namespace chat::config {

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Removes a trailing `; comment` that is not inside quotes.
std::string strip_comment(const std::string& s) {
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == quote)
        quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == ';') {
      return s.substr(0, i);
    }
  }
  return s;
}

std::string unquote(const std::string& v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    return v.substr(1, v.size() - 2);
  return v;
}

} // namespace

ini_sections parse_ini(const std::string& text) {
  ini_sections out;
  std::istringstream in(text);
  std::string line;
  std::string section;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    auto t = trim(strip_comment(line));
    if (t.empty())
      continue;
    if (t.front() == '[') {
      if (t.back() != ']')
        throw std::runtime_error(std::to_string(lineno) + ": unterminated section header");
      section = trim(t.substr(1, t.size() - 2));
      out[section];
      continue;
    }
    auto eq = t.find('=');
    if (eq == std::string::npos)
      throw std::runtime_error(std::to_string(lineno) + ": expected key=value");
    if (section.empty())
      throw std::runtime_error(std::to_string(lineno) + ": key outside of a section");
    out[section][trim(t.substr(0, eq))] = unquote(trim(t.substr(eq + 1)));
  }
  return out;
}

} // namespace chat::config
