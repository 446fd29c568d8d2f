// Disclosure control of a count table before publication. Primary suppression hides every cell,
// margins included, whose count is from 1 to k-1. Secondary suppression then hides more cells,
// the smallest non-zero first, until (a) no line of the table holds exactly one hidden cell and
// (b) no hidden cell can be solved from the published cells and margins: for each hidden cell,
// the linear system "each line sums to its Total" over the hidden cells has solutions that differ
// in that cell. Zeros are always published. Thread-compatible.
#pragma once

#include <cstdint>
#include <vector>

#include "report/count_table.h"

namespace osrc::report {

inline constexpr uint64_t kDefaultThreshold = 5;
inline constexpr uint64_t kMinThreshold = 3;

struct Suppression {
  std::vector<bool> hidden;  // by cell
  size_t primary = 0;
  size_t secondary = 0;
};

// k = 1 hides nothing (for an unpublished working table).
Suppression Suppress(const CountTable& table, uint64_t k);

// The hidden cells whose value the published cells fix through the table's lines.
std::vector<size_t> DeterminedCells(const CountTable& table, const std::vector<bool>& hidden);

}  // namespace osrc::report
