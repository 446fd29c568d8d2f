// A table of counts over one or more dimensions, with its margins: every dimension gains a
// `Total` level, so cell (Total, F) is the count of F over all levels of the first dimension and
// (Total, ..., Total) the grand total. A line is the cells along one dimension with the other
// coordinates fixed (any of them may be Total); its non-Total cells sum to its Total cell.
// Thread-compatible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace osrc::report {

inline constexpr std::string_view kTotal = "Total";

struct Dimension {
  std::string name;
  std::vector<std::string> levels;  // without Total
};

class CountTable {
 public:
  explicit CountTable(std::vector<Dimension> dims);

  const std::vector<Dimension>& dims() const { return dims_; }
  // Cells of the table with margins: the product of (levels + 1) over the dimensions.
  size_t size() const { return counts_.size(); }
  uint64_t count(size_t cell) const { return counts_[cell]; }
  // Coordinates: one per dimension, from 0 to levels.size() (that last one is Total).
  size_t CellOf(const std::vector<size_t>& coords) const;
  std::vector<size_t> CoordsOf(size_t cell) const;
  bool IsTotal(size_t cell, size_t dim) const;

  // Adds to a cell without Total coordinates; margins follow.
  void Add(const std::vector<size_t>& coords, uint64_t n = 1);
  // Every line, each as its non-Total cells followed by its Total cell.
  std::vector<std::vector<size_t>> Lines() const;

 private:
  std::vector<Dimension> dims_;
  std::vector<size_t> strides_;
  std::vector<uint64_t> counts_;
};

}  // namespace osrc::report
