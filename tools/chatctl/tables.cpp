// Table layout: column widths from the widest cell, padding by alignment, optional
// shrinking of text columns to fit a width.
#include "tables.hpp"

#include "units.hpp"

#include <algorithm>

namespace chat::chatctl {

namespace {

constexpr std::size_t gap = 2;

// The first `width` code points of `text`, the last one replaced by '~' when cut.
std::string fit(const std::string& text, std::size_t width) {
  if (display_width(text) <= width)
    return text;
  if (width == 0)
    return {};
  std::string out;
  std::size_t points = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80 && ++points == width)
      break;
    out.push_back(text[i]);
  }
  return out + "~";
}

std::string pad(const std::string& text, std::size_t width, align side) {
  auto fill = std::string(width - std::min(width, display_width(text)), ' ');
  return side == align::left ? text + fill : fill + text;
}

} // namespace

table::table(std::vector<column> columns) : columns_(std::move(columns)) {}

void table::add_row(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  for (auto& c : cells)
    c = printable(c);
  rows_.push_back(std::move(cells));
}

std::vector<std::string> table::lines(std::size_t max_width) const {
  std::vector<std::size_t> widths(columns_.size());
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    widths[i] = display_width(columns_[i].title);
    for (auto& row : rows_)
      widths[i] = std::max(widths[i], display_width(row[i]));
  }
  auto total = [&] {
    std::size_t sum = widths.empty() ? 0 : gap * (widths.size() - 1);
    for (auto w : widths)
      sum += w;
    return sum;
  };
  while (max_width > 0 && total() > max_width) {
    std::size_t widest = widths.size();
    for (std::size_t i = 0; i < widths.size(); ++i)
      if (columns_[i].side == align::left
          && widths[i] > std::max<std::size_t>(4, display_width(columns_[i].title))
          && (widest == widths.size() || widths[i] > widths[widest]))
        widest = i;
    if (widest == widths.size())
      break;
    --widths[widest];
  }

  auto render = [&](const std::vector<std::string>& cells, bool header) {
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0)
        line += std::string(gap, ' ');
      auto cell = header ? cells[i] : fit(cells[i], widths[i]);
      line += pad(cell, widths[i], columns_[i].side);
    }
    while (!line.empty() && line.back() == ' ')
      line.pop_back();
    return line;
  };

  std::vector<std::string> out;
  std::vector<std::string> titles;
  for (auto& c : columns_)
    titles.push_back(c.title);
  out.push_back(render(titles, true));
  for (auto& row : rows_)
    out.push_back(render(row, false));
  return out;
}

void table::print(std::ostream& out) const {
  for (auto& line : lines())
    out << line << '\n';
}

void print_fields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& kv) {
  std::size_t width = 0;
  for (auto& [k, v] : kv)
    width = std::max(width, display_width(k));
  for (auto& [k, v] : kv)
    out << pad(k, width, align::left) << std::string(gap, ' ') << printable(v) << '\n';
}

} // namespace chat::chatctl
