// Aligned text tables: a header row and data rows, text columns left-aligned and number
// columns right-aligned (header included), columns separated by two spaces.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace chat::chatctl {

enum class align { left, right };

struct column {
  std::string title;
  align side = align::left;
};

class table {
public:
  explicit table(std::vector<column> columns);

  // One cell per column; cells are made printable (no control characters).
  void add_row(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }
  // The lines of the table, header first, without trailing spaces; each line at most
  // `max_width` wide when given (the widest left-aligned column is cut with "~").
  std::vector<std::string> lines(std::size_t max_width = 0) const;
  void print(std::ostream& out) const;

private:
  std::vector<column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Two-column "key   value" lines for single records (status, room header).
void print_fields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& kv);

} // namespace chat::chatctl
