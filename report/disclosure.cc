#include "report/disclosure.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace osrc::report {
namespace {

constexpr double kEpsilon = 1e-9;

// The published non-zero cell of `line` with the smallest count, or SIZE_MAX.
size_t SmallestPublished(const CountTable& table, const std::vector<size_t>& line,
                         const std::vector<bool>& hidden) {
  size_t best = SIZE_MAX;
  for (size_t cell : line) {
    if (hidden[cell] || table.count(cell) == 0) continue;
    if (best == SIZE_MAX || table.count(cell) < table.count(best)) best = cell;
  }
  return best;
}

size_t HiddenIn(const std::vector<size_t>& line, const std::vector<bool>& hidden) {
  return std::count_if(line.begin(), line.end(), [&](size_t cell) { return hidden[cell]; });
}

}  // namespace

std::vector<size_t> DeterminedCells(const CountTable& table, const std::vector<bool>& hidden) {
  // Unknowns: the hidden cells. One equation per line holding any: +cells -Total = published part.
  std::map<size_t, size_t> column_of;
  std::vector<size_t> cell_of;
  for (size_t cell = 0; cell < table.size(); ++cell) {
    if (!hidden[cell]) continue;
    column_of[cell] = cell_of.size();
    cell_of.push_back(cell);
  }
  std::vector<std::vector<double>> rows;
  for (const std::vector<size_t>& line : table.Lines()) {
    if (HiddenIn(line, hidden) == 0) continue;
    std::vector<double> row(cell_of.size(), 0.0);
    for (size_t i = 0; i < line.size(); ++i) {
      if (hidden[line[i]]) row[column_of[line[i]]] = i + 1 == line.size() ? -1.0 : 1.0;
    }
    rows.push_back(std::move(row));
  }
  // Reduced row echelon form; a hidden cell is determined when it is a pivot whose row has no
  // other non-zero entry (every solution of the system agrees on it).
  size_t rank = 0;
  std::vector<size_t> pivot_row(cell_of.size(), SIZE_MAX);
  for (size_t col = 0; col < cell_of.size() && rank < rows.size(); ++col) {
    size_t best = rank;
    for (size_t r = rank; r < rows.size(); ++r) {
      if (std::fabs(rows[r][col]) > std::fabs(rows[best][col])) best = r;
    }
    if (std::fabs(rows[best][col]) < kEpsilon) continue;
    std::swap(rows[rank], rows[best]);
    double pivot = rows[rank][col];
    for (double& value : rows[rank]) value /= pivot;
    for (size_t r = 0; r < rows.size(); ++r) {
      if (r == rank || std::fabs(rows[r][col]) < kEpsilon) continue;
      double factor = rows[r][col];
      for (size_t c = col; c < cell_of.size(); ++c) rows[r][c] -= factor * rows[rank][c];
    }
    pivot_row[col] = rank++;
  }
  std::vector<size_t> determined;
  for (size_t col = 0; col < cell_of.size(); ++col) {
    if (pivot_row[col] == SIZE_MAX) continue;
    const std::vector<double>& row = rows[pivot_row[col]];
    bool alone = true;
    for (size_t c = 0; c < row.size() && alone; ++c) {
      alone = c == col || std::fabs(row[c]) < kEpsilon;
    }
    if (alone) determined.push_back(cell_of[col]);
  }
  return determined;
}

Suppression Suppress(const CountTable& table, uint64_t k) {
  Suppression out;
  out.hidden.assign(table.size(), false);
  if (k <= 1) return out;
  for (size_t cell = 0; cell < table.size(); ++cell) {
    uint64_t count = table.count(cell);
    if (count >= 1 && count < k) {
      out.hidden[cell] = true;
      ++out.primary;
    }
  }
  if (out.primary == 0) return out;
  std::vector<std::vector<size_t>> lines = table.Lines();
  auto hide = [&](size_t cell) {
    out.hidden[cell] = true;
    ++out.secondary;
  };
  while (true) {
    // (a) A line with one hidden cell gives it away: hide its smallest published cell too.
    bool changed = true;
    while (changed) {
      changed = false;
      for (const std::vector<size_t>& line : lines) {
        if (HiddenIn(line, out.hidden) != 1) continue;
        size_t cell = SmallestPublished(table, line, out.hidden);
        if (cell == SIZE_MAX) continue;  // the rest are zeros: nothing to recover from them
        hide(cell);
        changed = true;
      }
    }
    // (b) Combinations of lines can still solve a cell: hide the smallest published cell on a
    // line through one that is solved, and look again.
    std::vector<size_t> determined = DeterminedCells(table, out.hidden);
    if (determined.empty()) return out;
    size_t best = SIZE_MAX;
    for (const std::vector<size_t>& line : lines) {
      bool through = std::any_of(line.begin(), line.end(), [&](size_t cell) {
        return std::find(determined.begin(), determined.end(), cell) != determined.end();
      });
      if (!through) continue;
      size_t cell = SmallestPublished(table, line, out.hidden);
      if (cell != SIZE_MAX && (best == SIZE_MAX || table.count(cell) < table.count(best))) {
        best = cell;
      }
    }
    if (best == SIZE_MAX) {
      // Those lines are hidden through: widen to the whole table.
      for (size_t cell = 0; cell < table.size(); ++cell) {
        if (out.hidden[cell] || table.count(cell) == 0) continue;
        if (best == SIZE_MAX || table.count(cell) < table.count(best)) best = cell;
      }
    }
    if (best == SIZE_MAX) return out;  // every non-zero cell hidden: the system scales freely
    hide(best);
  }
}

}  // namespace osrc::report
