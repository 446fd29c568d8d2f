#include "bench/bench_util.h"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "tests/support/process.h"

namespace osrc::bench {

double NowSeconds() {
  static const auto start = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

namespace {

std::vector<double> Column(const std::vector<Timing>& runs, double Timing::*member) {
  std::vector<double> values;
  for (const Timing& run : runs) values.push_back(run.*member);
  return values;
}

}  // namespace

double MedianOf(const std::vector<Timing>& runs, double Timing::*member) {
  return Median(Column(runs, member));
}
double MinOf(const std::vector<Timing>& runs, double Timing::*member) {
  auto values = Column(runs, member);
  return values.empty() ? 0 : *std::min_element(values.begin(), values.end());
}
double MaxOf(const std::vector<Timing>& runs, double Timing::*member) {
  auto values = Column(runs, member);
  return values.empty() ? 0 : *std::max_element(values.begin(), values.end());
}

Timing TimeRawPuts(const std::string& dir, const storage::EnvOptions& options,
                   const std::vector<const char*>& db_names,
                   const std::vector<std::vector<const PutOp*>>& batches) {
  storage::Env env(dir, options);
  std::vector<storage::Dbi> dbis;
  for (const char* name : db_names) dbis.push_back(env.OpenDbi(name));
  Timing timing;
  double cpu_start = SelfCpuSeconds();
  double start = NowSeconds();
  for (const auto& batch : batches) {
    storage::WriteTxn txn(env);
    for (const PutOp* op : batch) txn.Put(dbis.at(op->db), op->key, op->value, op->flags);
    double commit_start = NowSeconds();
    txn.Commit();
    timing.commit_seconds += NowSeconds() - commit_start;
  }
  timing.seconds = NowSeconds() - start;
  timing.cpu_seconds = SelfCpuSeconds() - cpu_start;
  return timing;
}

void Table::Print() const {
  std::vector<size_t> widths;
  auto widen = [&](const std::vector<std::string>& cells) {
    if (widths.size() < cells.size()) widths.resize(cells.size(), 0);
    for (size_t i = 0; i < cells.size(); ++i) widths[i] = std::max(widths[i], cells[i].size());
  };
  widen(header_);
  for (const auto& row : rows_) widen(row);
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      std::string pad(widths[i] - cells[i].size(), ' ');
      // The first column (a label) is left-aligned, the numbers right-aligned.
      out += i == 0 ? cells[i] + pad : "  " + pad + cells[i];
    }
    std::cout << "  " << out << "\n";
  };
  size_t total = 0;
  for (size_t w : widths) total += w + 2;
  std::cout << "\n" << title_ << "\n";
  line(header_);
  std::cout << "  " << std::string(total > 2 ? total - 2 : 0, '-') << "\n";
  for (const auto& row : rows_) line(row);
  std::cout.flush();
}

std::string Thousands(double value) {
  long long n = std::llround(value);
  bool negative = n < 0;
  std::string digits = std::to_string(negative ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return negative ? "-" + out : out;
}

std::string Fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", decimals, value);
  return buffer;
}

std::string SelfDir() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
}

std::string MustRun(std::vector<std::string> args, std::chrono::seconds timeout) {
  testing::RunResult result = testing::Run(std::move(args), {}, timeout);
  if (!result.ok()) throw std::runtime_error("step failed: " + result.Describe());
  return result.out;
}

std::string LastLine(const std::string& text) {
  std::string_view rest = text;
  while (!rest.empty() && rest.back() == '\n') rest.remove_suffix(1);
  if (rest.empty()) throw std::runtime_error("no output");
  size_t newline = rest.rfind('\n');
  return std::string(newline == std::string_view::npos ? rest : rest.substr(newline + 1));
}

uint64_t FileBytes(const std::string& path) { return std::filesystem::file_size(path); }

namespace {

double CpuSeconds(int who) {
  rusage usage{};
  getrusage(who, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

double SelfCpuSeconds() { return CpuSeconds(RUSAGE_SELF); }
double ChildrenCpuSeconds() { return CpuSeconds(RUSAGE_CHILDREN); }

}  // namespace osrc::bench
