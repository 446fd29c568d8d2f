// Property tests of report/disclosure.h on random 2- and 3-dimensional tables: nothing from 1 to
// k-1 is published, zeros are, every line with a hidden cell has two, and solving the linear
// system of what is published (checked here independently, in exact rational arithmetic) leaves
// every hidden cell undetermined.
#include "report/disclosure.h"

#include <gtest/gtest.h>

#include <numeric>
#include <random>

namespace osrc::report {
namespace {

// Exact fraction of 128-bit integers, always reduced, denominator positive.
struct Fraction {
  __int128 num = 0, den = 1;
  Fraction(__int128 n = 0, __int128 d = 1) : num(n), den(d) { Reduce(); }
  void Reduce() {
    if (den < 0) num = -num, den = -den;
    __int128 a = num < 0 ? -num : num, b = den;
    while (b != 0) a %= b, std::swap(a, b);
    if (a > 1) num /= a, den /= a;
  }
  bool zero() const { return num == 0; }
  Fraction operator-(const Fraction& o) const { return {num * o.den - o.num * den, den * o.den}; }
  Fraction operator*(const Fraction& o) const { return {num * o.num, den * o.den}; }
  Fraction operator/(const Fraction& o) const { return {num * o.den, den * o.num}; }
};

// Whether `cell` takes one value in every solution of: each line of `table` sums to its Total,
// with the published cells fixed. True when the unit vector of the cell lies in the row space of
// the system over the hidden cells.
bool SolvableExactly(const CountTable& table, const std::vector<bool>& hidden, size_t cell) {
  std::vector<size_t> unknowns;
  for (size_t c = 0; c < table.size(); ++c) {
    if (hidden[c]) unknowns.push_back(c);
  }
  auto column = [&](size_t c) {
    return std::find(unknowns.begin(), unknowns.end(), c) - unknowns.begin();
  };
  std::vector<std::vector<Fraction>> rows;
  for (const auto& line : table.Lines()) {
    std::vector<Fraction> row(unknowns.size());
    bool any = false;
    for (size_t i = 0; i < line.size(); ++i) {
      if (!hidden[line[i]]) continue;
      row[column(line[i])] = Fraction(i + 1 == line.size() ? -1 : 1);
      any = true;
    }
    if (any) rows.push_back(row);
  }
  // Rank with and without the unit vector of `cell`: equal ranks mean it is in the row space.
  auto rank = [](std::vector<std::vector<Fraction>> m) {
    size_t r = 0;
    for (size_t col = 0; !m.empty() && col < m[0].size() && r < m.size(); ++col) {
      size_t pivot = r;
      while (pivot < m.size() && m[pivot][col].zero()) ++pivot;
      if (pivot == m.size()) continue;
      std::swap(m[r], m[pivot]);
      for (size_t i = r + 1; i < m.size(); ++i) {
        if (m[i][col].zero()) continue;
        Fraction factor = m[i][col] / m[r][col];
        for (size_t j = col; j < m[i].size(); ++j) m[i][j] = m[i][j] - factor * m[r][j];
      }
      ++r;
    }
    return r;
  };
  size_t before = rank(rows);
  std::vector<Fraction> unit(unknowns.size());
  unit[column(cell)] = Fraction(1);
  rows.push_back(unit);
  return rank(rows) == before;
}

CountTable RandomTable(std::mt19937& rng, std::vector<size_t> sizes) {
  std::vector<Dimension> dims;
  for (size_t d = 0; d < sizes.size(); ++d) {
    Dimension dim{"d" + std::to_string(d), {}};
    for (size_t l = 0; l < sizes[d]; ++l) dim.levels.push_back("l" + std::to_string(l));
    dims.push_back(dim);
  }
  CountTable table(dims);
  std::vector<size_t> coords(sizes.size());
  std::function<void(size_t)> fill = [&](size_t d) {
    if (d == sizes.size()) {
      int kind = std::uniform_int_distribution<int>(0, 9)(rng);
      uint64_t n = kind < 2   ? 0
                   : kind < 5 ? std::uniform_int_distribution<int>(1, 4)(rng)
                              : std::uniform_int_distribution<int>(5, 40)(rng);
      if (n > 0) table.Add(coords, n);
      return;
    }
    for (coords[d] = 0; coords[d] < sizes[d]; ++coords[d]) fill(d + 1);
  };
  fill(0);
  return table;
}

void ExpectSafe(const CountTable& table, const Suppression& s, uint64_t k, int trial) {
  for (size_t cell = 0; cell < table.size(); ++cell) {
    uint64_t count = table.count(cell);
    if (!s.hidden[cell]) {
      EXPECT_FALSE(count >= 1 && count < k) << "trial " << trial;
    }
    if (count == 0) {
      EXPECT_FALSE(s.hidden[cell]) << "a zero hidden, trial " << trial;
    }
    if (s.hidden[cell]) {
      EXPECT_FALSE(SolvableExactly(table, s.hidden, cell))
          << "cell " << cell << " (count " << count << ") recoverable, trial " << trial;
    }
  }
  for (const auto& line : table.Lines()) {
    size_t hidden = std::count_if(line.begin(), line.end(), [&](size_t c) { return s.hidden[c]; });
    EXPECT_NE(hidden, 1u) << "a line with one hidden cell, trial " << trial;
  }
}

TEST(Disclosure, RandomTwoDimensionalTablesLeaveEveryHiddenCellUndetermined) {
  std::mt19937 rng(20261204);
  size_t hidden_total = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::uniform_int_distribution<size_t> size(1, 7);
    CountTable table = RandomTable(rng, {size(rng), size(rng)});
    Suppression s = Suppress(table, 5);
    ExpectSafe(table, s, 5, trial);
    EXPECT_TRUE(DeterminedCells(table, s.hidden).empty());
    hidden_total += s.primary + s.secondary;
  }
  EXPECT_GT(hidden_total, 300u);  // the tables did need protecting
}

TEST(Disclosure, RandomThreeDimensionalTablesLeaveEveryHiddenCellUndetermined) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 80; ++trial) {
    std::uniform_int_distribution<size_t> size(1, 4);
    CountTable table = RandomTable(rng, {size(rng), size(rng), size(rng)});
    uint64_t k = trial % 2 == 0 ? 5 : 3;
    ExpectSafe(table, Suppress(table, k), k, trial);
  }
}

TEST(Disclosure, TheIndependentCheckSeesWhatPrimarySuppressionAloneGivesAway) {
  // One small cell hidden in a 2 x 2 table: its row total minus the other cell gives it back.
  CountTable table({{"sex", {"F", "M"}}, {"site", {"MAS", "ANT"}}});
  table.Add({0, 0}, 2);
  table.Add({0, 1}, 10);
  table.Add({1, 0}, 12);
  table.Add({1, 1}, 9);
  std::vector<bool> primary_only(table.size(), false);
  size_t small = table.CellOf({0, 0});
  primary_only[small] = true;
  EXPECT_TRUE(SolvableExactly(table, primary_only, small));
  EXPECT_EQ(DeterminedCells(table, primary_only), std::vector<size_t>{small});

  Suppression s = Suppress(table, 5);
  EXPECT_EQ(s.primary, 1u);
  // The smallest cells go first: the four inner cells form a cycle no margin can solve.
  EXPECT_EQ(s.secondary, 3u);
  for (size_t f : {0, 1}) {
    for (size_t site : {0, 1}) EXPECT_TRUE(s.hidden[table.CellOf({f, site})]);
  }
  ExpectSafe(table, s, 5, 0);
}

TEST(Disclosure, OneCountBelowKAmongZerosHidesItsMarginsAndNoZero) {
  CountTable table({{"sex", {"F", "M"}}});
  table.Add({0}, 3);
  Suppression s = Suppress(table, 5);
  EXPECT_TRUE(s.hidden[table.CellOf({0})]);
  EXPECT_TRUE(s.hidden[table.CellOf({2})]);   // Total = 3, itself below k
  EXPECT_FALSE(s.hidden[table.CellOf({1})]);  // the zero stays
  EXPECT_TRUE(Suppress(table, 1).hidden == std::vector<bool>(table.size(), false));
}

}  // namespace
}  // namespace osrc::report
