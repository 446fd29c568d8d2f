// Shared pieces of the osrc-sync benchmarks: timing and medians, the raw LMDB put baseline, the
// result table, and running the project's binaries. Benchmarks, not tests: nothing here asserts
// beyond stopping on a failed step. Thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/env.h"

namespace osrc::bench {

// Seconds since the first call (a steady clock).
double NowSeconds();

// The median of `values` (mean of the middle two for an even count); 0 if empty.
double Median(std::vector<double> values);

// One put of the raw baseline: `db` indexes the database names given to TimeRawPuts.
struct PutOp {
  int db = 0;
  std::string key;
  std::string value;
  unsigned flags = 0;  // e.g. MDB_APPEND, as the product code passes it
};

// Wall seconds of a timed step, its CPU seconds (this process, all threads) and, for raw puts,
// the wall seconds spent inside commits.
struct Timing {
  double seconds = 0;
  double cpu_seconds = 0;
  double commit_seconds = 0;
};

// The median, least and greatest of one member over runs, e.g. MedianOf(runs, &Timing::seconds).
double MedianOf(const std::vector<Timing>& runs, double Timing::*member);
double MinOf(const std::vector<Timing>& runs, double Timing::*member);
double MaxOf(const std::vector<Timing>& runs, double Timing::*member);

// Opens a fresh LMDB environment in the empty folder `dir` with `options` and the databases
// `db_names`, then puts every op of each batch in its own write transaction and commits it
// (durable when options.durable). Times from the first transaction's begin to the last commit's
// return; opening the environment is not timed.
Timing TimeRawPuts(const std::string& dir, const storage::EnvOptions& options,
                   const std::vector<const char*>& db_names,
                   const std::vector<std::vector<const PutOp*>>& batches);

// A table of right-aligned columns with a title, printed to stdout.
class Table {
 public:
  explicit Table(std::string title) : title_(std::move(title)) {}
  void Header(std::vector<std::string> cells) { header_ = std::move(cells); }
  void Row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void Print() const;

 private:
  std::string title_;
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// Formats with thousands separators: 123456.7 -> "123,457".
std::string Thousands(double value);
// Fixed decimals: Fixed(0.3312, 2) -> "0.33".
std::string Fixed(double value, int decimals);

// The folder of the running executable (where osrc-node, osrc-hub and osrc-gen are built).
std::string SelfDir();

// Runs a program to completion; throws std::runtime_error with its output if it fails.
// Returns its stdout.
std::string MustRun(std::vector<std::string> args,
                    std::chrono::seconds timeout = std::chrono::seconds(1800));

// The last line of a program's output, without its newline; throws if there is none.
std::string LastLine(const std::string& text);

// The size of a file in bytes; throws if it cannot be read.
uint64_t FileBytes(const std::string& path);

// Sum of user and system CPU seconds of this process, and of its reaped children.
double SelfCpuSeconds();
double ChildrenCpuSeconds();

}  // namespace osrc::bench
