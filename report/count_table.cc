#include "report/count_table.h"

namespace osrc::report {

CountTable::CountTable(std::vector<Dimension> dims) : dims_(std::move(dims)) {
  size_t size = 1;
  strides_.resize(dims_.size());
  for (size_t d = dims_.size(); d-- > 0;) {
    strides_[d] = size;
    size *= dims_[d].levels.size() + 1;
  }
  counts_.assign(size, 0);
}

size_t CountTable::CellOf(const std::vector<size_t>& coords) const {
  size_t cell = 0;
  for (size_t d = 0; d < dims_.size(); ++d) cell += coords[d] * strides_[d];
  return cell;
}

std::vector<size_t> CountTable::CoordsOf(size_t cell) const {
  std::vector<size_t> coords(dims_.size());
  for (size_t d = 0; d < dims_.size(); ++d) {
    coords[d] = cell / strides_[d];
    cell %= strides_[d];
  }
  return coords;
}

bool CountTable::IsTotal(size_t cell, size_t dim) const {
  return cell / strides_[dim] % (dims_[dim].levels.size() + 1) == dims_[dim].levels.size();
}

void CountTable::Add(const std::vector<size_t>& coords, uint64_t n) {
  // The cell and each of its margins: every subset of coordinates replaced by Total.
  size_t subsets = size_t{1} << dims_.size();
  for (size_t mask = 0; mask < subsets; ++mask) {
    size_t cell = 0;
    for (size_t d = 0; d < dims_.size(); ++d) {
      size_t coord = (mask >> d & 1) ? dims_[d].levels.size() : coords[d];
      cell += coord * strides_[d];
    }
    counts_[cell] += n;
  }
}

std::vector<std::vector<size_t>> CountTable::Lines() const {
  std::vector<std::vector<size_t>> lines;
  for (size_t d = 0; d < dims_.size(); ++d) {
    size_t levels = dims_[d].levels.size();
    // Each line starts at a cell whose coordinate d is 0.
    for (size_t cell = 0; cell < counts_.size(); ++cell) {
      if (cell / strides_[d] % (levels + 1) != 0) continue;
      std::vector<size_t> line;
      for (size_t level = 0; level <= levels; ++level) line.push_back(cell + level * strides_[d]);
      lines.push_back(std::move(line));
    }
  }
  return lines;
}

}  // namespace osrc::report
