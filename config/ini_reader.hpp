// Reads the sections of a CAF 0.17 INI file (caf-application.conf) as raw strings, so the
// node can validate its own keys strictly (CAF drops bad values silently).
#pragma once

#include <map>
#include <string>

namespace chat::config {

// section -> key -> value; quotes of strings ("...") and atoms ('...') are removed.
using ini_sections = std::map<std::string, std::map<std::string, std::string>>;

// Parses INI text. Throws std::runtime_error("LINE: message") on a malformed line.
ini_sections parse_ini(const std::string& text);

} // namespace chat::config
