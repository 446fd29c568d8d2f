// osrc-bench-import: times replica::ImportJsonLines of a JSON Lines file into a fresh site store
// (in-process, one durable commit, as `osrc-node import` does) against the raw LMDB put rate of
// exactly the keys and values that import writes, measured in the same run:
//   (a) one put per record: the record key and its stored record-state bytes;
//   (b) (a) plus the change-log put of each record: be64 seq key -> change bytes (MDB_APPEND, as
//       Store::AppendLog passes it), interleaved as the import writes them.
// Both baselines run in one write transaction with a durable commit, in a fresh environment with
// the node's store options (same map size, same flags). Reports medians of --reps repetitions.
//
// The data: osrc-gen --site MAS --participants P --services-per 1 (default P = 50,000: 50,000
// participants + 50,000 services = 100,000 records), or --file FILE.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "bench/bench_util.h"
#include "bench/site_store.h"
#include "config/schema_loader.h"
#include "replica/records.h"
#include "storage/hlc.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace osrc::bench {
namespace {

struct Options {
  std::string bin;
  std::string file;
  std::string site = "MAS";
  int participants = 50000;
  double scale = 1.0;
  int reps = 5;
  bool split = false;  // also time the import and raw (b) without fsync
};

// The puts an import made, in the order it made them.
struct ImportOps {
  std::vector<PutOp> ops;
  std::vector<const PutOp*> records_only;
  std::vector<const PutOp*> records_and_log;
  size_t record_bytes = 0;
  size_t change_bytes = 0;
};

// ImportJsonLines(file) into a freshly prepared store in `dir`, including its commit.
Timing TimeImport(const std::string& dir, const Options& options, bool durable, size_t* lines) {
  PrepareSiteStore(dir, options.site);
  storage::Store store(dir, NodeStoreOptions(durable));
  storage::SystemClock clock;
  replica::Writer writer{store, config::DefaultSchema(), clock, options.site, false, {}};
  std::ifstream in(options.file);
  if (!in) throw std::runtime_error("cannot open " + options.file);
  replica::ImportStats stats;
  Timing timing;
  double cpu_start = SelfCpuSeconds();
  double start = NowSeconds();
  Status status = replica::ImportJsonLines(writer, in, "", &stats);
  timing.seconds = NowSeconds() - start;
  timing.cpu_seconds = SelfCpuSeconds() - cpu_start;
  if (!status.ok()) throw std::runtime_error("import failed: " + status.ToString());
  *lines = stats.lines;
  return timing;
}

// Reads back what the import in `dir` wrote: per change-log entry, its record's key and stored
// state, then the log entry itself.
ImportOps CollectOps(const std::string& dir) {
  storage::Store store(dir, NodeStoreOptions());
  storage::ReadTxn txn(store.env());
  uint64_t head = store.LogHead(txn);
  ImportOps out;
  out.ops.reserve(2 * head);
  for (uint64_t seq = 1; seq <= head; ++seq) {
    std::string bytes = store.GetLog(txn, seq).value();
    protocol::Change change;
    Status status = protocol::DecodeChange(bytes, protocol::DecodeLimits{}, &change);
    if (!status.ok()) throw std::runtime_error("bad log entry: " + status.ToString());
    std::string key = storage::RecordKey(change.collection, change.id);
    std::string value(txn.Get(store.records(), key).value());
    out.record_bytes += value.size();
    out.change_bytes += bytes.size();
    out.ops.push_back({0, std::move(key), std::move(value), 0});
    out.ops.push_back({1, storage::SeqKey(seq), std::string(bytes), MDB_APPEND});
  }
  for (size_t i = 0; i < out.ops.size(); ++i) {
    if (out.ops[i].db == 0) out.records_only.push_back(&out.ops[i]);
    out.records_and_log.push_back(&out.ops[i]);
  }
  return out;
}

// One measured variant: a name and its timings, one per repetition.
struct Variant {
  std::string name;
  bool baseline = false;
  std::vector<Timing> runs;
};

void PrintResults(const std::vector<Variant>& variants, const ImportOps& ops, size_t lines,
                  const Options& options) {
  double records = static_cast<double>(ops.records_only.size());
  double import_rate = records / MedianOf(variants[0].runs, &Timing::seconds);
  Table table("Import of " + Thousands(records) + " records (" + Thousands(lines) +
              " lines): medians of " + std::to_string(options.reps) + " repetitions");
  table.Header({"", "wall s", "records/s", "CPU s", "commit s", "min s", "max s", "import/this",
                "target >= 0.33"});
  for (const Variant& v : variants) {
    double rate = records / MedianOf(v.runs, &Timing::seconds);
    double ratio = import_rate / rate;
    double commit = MedianOf(v.runs, &Timing::commit_seconds);
    table.Row({v.name, Fixed(MedianOf(v.runs, &Timing::seconds), 3), Thousands(rate),
               Fixed(MedianOf(v.runs, &Timing::cpu_seconds), 3),
               commit > 0 ? Fixed(commit, 3) : "-", Fixed(MinOf(v.runs, &Timing::seconds), 3),
               Fixed(MaxOf(v.runs, &Timing::seconds), 3), v.baseline ? Fixed(ratio, 3) : "",
               v.baseline ? (ratio >= 1.0 / 3 ? "met" : "MISSED") : ""});
  }
  table.Print();
  std::cout << "  import/this = median import rate / median rate of the row. Durable rows: one\n"
            << "  write txn, fsync at commit, fresh store, map "
            << (NodeStoreOptions().map_size >> 20) << " MiB. CPU s: this process.\n"
            << "  sizes per record: record state " << Fixed(ops.record_bytes / records, 1)
            << " B, change (log) " << Fixed(ops.change_bytes / records, 1) << " B, JSON line "
            << Fixed(FileBytes(options.file) / records, 1) << " B\n";
}

void Run(Options options) {
  if (options.bin.empty()) options.bin = SelfDir();
  testing::TempDir work("osrc-bench-import");
  int participants = std::max(1, static_cast<int>(options.participants * options.scale));
  std::string source = "--file " + options.file;
  bool generated = options.file.empty();
  if (generated) {
    options.file = work.Path("records.jsonl");
    MustRun({options.bin + "/osrc-gen", "--site", options.site, "--participants",
             std::to_string(participants), "--services-per", "1", "--out", options.file});
    source = "osrc-gen --site " + options.site + " --participants " + std::to_string(participants) +
             " --services-per 1";
  }
  std::cout << "import benchmark: " << source << " (" << Thousands(FileBytes(options.file))
            << " bytes), " << options.reps << " repetitions, work folder " << work.path()
            << std::endl;

  std::vector<Variant> variants = {{"ImportJsonLines, durable commit", false, {}},
                                   {"raw LMDB (a) record puts", true, {}},
                                   {"raw LMDB (b) record + log puts", true, {}}};
  if (options.split) {
    variants.push_back({"split: ImportJsonLines, no fsync", false, {}});
    variants.push_back({"split: raw (b), no fsync", true, {}});
  }
  ImportOps ops;
  size_t lines = 0;
  for (int rep = 0; rep < options.reps; ++rep) {
    auto fresh = [&](const std::string& name) {
      std::string dir = work.Path(name + "-" + std::to_string(rep));
      std::filesystem::create_directories(dir);
      return dir;
    };
    std::string dir = fresh("import");
    variants[0].runs.push_back(TimeImport(dir, options, true, &lines));
    if (rep == 0) ops = CollectOps(dir);
    std::filesystem::remove_all(dir);
    dir = fresh("raw-a");
    variants[1].runs.push_back(
        TimeRawPuts(dir, NodeStoreOptions(), {"records"}, {ops.records_only}));
    std::filesystem::remove_all(dir);
    dir = fresh("raw-b");
    variants[2].runs.push_back(
        TimeRawPuts(dir, NodeStoreOptions(), {"records", "log"}, {ops.records_and_log}));
    std::filesystem::remove_all(dir);
    if (options.split) {
      dir = fresh("import-nosync");
      variants[3].runs.push_back(TimeImport(dir, options, false, &lines));
      std::filesystem::remove_all(dir);
      dir = fresh("raw-b-nosync");
      variants[4].runs.push_back(
          TimeRawPuts(dir, NodeStoreOptions(false), {"records", "log"}, {ops.records_and_log}));
      std::filesystem::remove_all(dir);
    }
    std::cout << "  rep " << rep + 1 << ":";
    for (const Variant& v : variants) std::cout << " " << Fixed(v.runs.back().seconds, 3) << " s";
    std::cout << std::endl;
  }
  PrintResults(variants, ops, lines, options);
  std::cout << "  reproduce: " << options.bin << "/osrc-bench-import --reps " << options.reps
            << (generated ? " --participants " + std::to_string(participants)
                          : " --file " + options.file)
            << (options.site != "MAS" ? " --site " + options.site : "")
            << (options.split ? " --split" : "") << "\n";
}

}  // namespace
}  // namespace osrc::bench

int main(int argc, char** argv) {
  osrc::bench::Options options;
  CLI::App app("Times ImportJsonLines against the raw LMDB put rate of the same data.");
  app.add_option("--bin", options.bin, "folder of osrc-gen (default: this program's folder)");
  app.add_option("--file", options.file, "JSON Lines file to import (default: generate one)");
  app.add_option("--site", options.site, "site code of the store and generated data");
  app.add_option("--participants", options.participants,
                 "participants to generate, each with 1 service (default 50000)");
  app.add_option("--scale", options.scale, "multiplies --participants (quick check: 0.1)");
  app.add_option("--reps", options.reps, "repetitions (default 5)")->check(CLI::PositiveNumber);
  app.add_flag("--split", options.split, "also time import and raw (b) without fsync");
  CLI11_PARSE(app, argc, argv);
  try {
    osrc::bench::Run(options);
  } catch (const std::exception& e) {
    std::cerr << "osrc-bench-import: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
