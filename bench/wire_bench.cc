// osrc-bench-wire: bytes on the wire per change of a site's pushes, by push encoding and push
// size, on three data sets:
//   - osrc-gen's sample, seed 1: what the encoding's settings (prefix size, levels) were chosen on;
//   - osrc-gen with seed 2: the same generator, other records;
//   - bench/data/handmade.jsonl: 80 records of another site written by hand, with other names,
//     places and notes; beside it the first 80 records of the seed-1 sample, for a like size.
// Encodings: self-contained zstd frames at level 3 (protocol version 1), runs compressed against
// what the connection carried (version 2), and those runs in compact form (version 3,
// protocol/compact_run.h), each at level 3 (fast or unmeasured links) and 9 (under 128 KB/s).
// Baselines from the same records: their JSON Lines, and zstd -19 of the whole JSON Lines file at
// once. Message bytes: CURVE and ZMTP add some 40 bytes per message.
#include <zstd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "bench/bench_util.h"
#include "bench/site_store.h"
#include "config/schema_loader.h"
#include "protocol/messages.h"
#include "replica/records.h"
#include "storage/hlc.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace osrc::bench {
namespace {

struct DataSet {
  std::string name;
  std::string site;
  std::string jsonl;  // the records, as imported
};

// The first `limit` lines of `text` (all if 0).
std::string FirstLines(const std::string& text, size_t limit) {
  if (limit == 0) return text;
  size_t end = 0;
  for (size_t i = 0; i < limit && end != std::string::npos; ++i) {
    end = text.find('\n', end);
    if (end != std::string::npos) ++end;
  }
  return end == std::string::npos ? text : text.substr(0, end);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The change log a site's import of `data` writes.
std::vector<std::string> ImportedLog(const DataSet& data, const std::string& dir) {
  PrepareSiteStore(dir, data.site);
  storage::Store store(dir, NodeStoreOptions(false));
  storage::SystemClock clock;
  replica::Writer writer{store, config::DefaultSchema(), clock, data.site, false, {}};
  std::istringstream in(data.jsonl);
  replica::ImportStats stats;
  Status status = replica::ImportJsonLines(writer, in, "", &stats);
  if (!status.ok()) throw std::runtime_error(data.name + ": import failed: " + status.ToString());
  storage::ReadTxn txn(store.env());
  std::vector<std::string> log;
  for (uint64_t seq = 1, head = store.LogHead(txn); seq <= head; ++seq) {
    log.emplace_back(store.GetLog(txn, seq).value());
  }
  return log;
}

// Message bytes per change of pushing `log` in pushes of up to `push_bytes` of changes (at least
// one change each) on one connection.
double BytesPerChange(const std::vector<std::string>& log, size_t push_bytes, bool chained,
                      int level, protocol::RunForm form) {
  protocol::RunHistory history;
  size_t total = 0;
  for (size_t i = 0; i < log.size();) {
    protocol::Push push{i + 1, {}, {}};
    size_t bytes = 0;
    while (i < log.size() && (push.changes.empty() || bytes + log[i].size() <= push_bytes)) {
      bytes += log[i].size();
      push.changes.push_back(log[i++]);
    }
    total += protocol::EncodeMessage(push, {chained ? &history : nullptr, level, form}).size();
  }
  return static_cast<double>(total) / static_cast<double>(log.size());
}

// Microseconds per change to encode `log` as one 256 KiB-sized push after another, and to decode
// them as the hub does (values where the run is compact), medians of 5.
std::pair<double, double> CostPerChange(const std::vector<std::string>& log,
                                        protocol::RunForm form) {
  std::vector<double> encode, decode;
  for (int rep = 0; rep < 5; ++rep) {
    protocol::RunHistory sent, received;
    std::vector<std::string> frames;
    auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < log.size();) {
      protocol::Push push{i + 1, {}, {}};
      size_t bytes = 0;
      while (i < log.size() && bytes + log[i].size() <= 256 * 1024) {
        bytes += log[i].size();
        push.changes.push_back(log[i++]);
      }
      frames.push_back(protocol::EncodeMessage(push, {&sent, 3, form}));
    }
    auto encoded = std::chrono::steady_clock::now();
    for (const std::string& frame : frames) {
      protocol::Message message;
      Status status =
          protocol::DecodeMessage({reinterpret_cast<const uint8_t*>(frame.data()), frame.size()},
                                  {}, &message, &received, protocol::PushChanges::kValues);
      if (!status.ok()) throw std::runtime_error("decoding a push: " + status.ToString());
      protocol::Change change;
      const auto& push = std::get<protocol::Push>(message);
      for (size_t i = 0; i < push.changes.size(); ++i) {
        if (i < push.values.size() && push.values[i]) continue;
        if (!protocol::DecodeChange(push.changes[i], {}, &change).ok()) {
          throw std::runtime_error("decoding a change");
        }
      }
    }
    auto decoded = std::chrono::steady_clock::now();
    auto micros = [&](auto from, auto to) {
      return std::chrono::duration<double, std::micro>(to - from).count() /
             static_cast<double>(log.size());
    };
    encode.push_back(micros(start, encoded));
    decode.push_back(micros(encoded, decoded));
  }
  return {Median(encode), Median(decode)};
}

double Zstd19PerRecord(const std::string& jsonl, size_t records) {
  std::string out(ZSTD_compressBound(jsonl.size()), '\0');
  size_t size = ZSTD_compress(out.data(), out.size(), jsonl.data(), jsonl.size(), 19);
  if (ZSTD_isError(size)) throw std::runtime_error("zstd failed");
  return static_cast<double>(size) / static_cast<double>(records);
}

void Measure(const DataSet& data, const std::string& dir) {
  std::vector<std::string> log = ImportedLog(data, dir);
  size_t records = log.size();
  double json = static_cast<double>(data.jsonl.size()) / static_cast<double>(records);
  Table table(data.name + ": " + Thousands(static_cast<double>(records)) +
              " records, bytes per change");
  table.Header({"", "1 change per push", "4 KiB pushes", "256 KiB pushes", "vs JSON (256 KiB)"});
  struct Encoding {
    const char* name;
    bool chained;
    int level;
    protocol::RunForm form;
  };
  constexpr auto kChangeRun = protocol::RunForm::kChangeRun;
  constexpr auto kCompact = protocol::RunForm::kCompact;
  for (const Encoding& encoding :
       {Encoding{"self-contained, level 3 (protocol 1)", false, 3, kChangeRun},
        Encoding{"chained, level 3 (protocol 2, fast links)", true, 3, kChangeRun},
        Encoding{"chained, level 9 (protocol 2, slow links)", true, 9, kChangeRun},
        Encoding{"compact, level 3 (protocol 3, fast links)", true, 3, kCompact},
        Encoding{"compact, level 9 (protocol 3, slow links)", true, 9, kCompact}}) {
    std::vector<std::string> row = {encoding.name};
    double last = 0;
    for (size_t push_bytes : {size_t{1}, size_t{4096}, size_t{256 * 1024}}) {
      last = BytesPerChange(log, push_bytes, encoding.chained, encoding.level, encoding.form);
      row.push_back(Fixed(last, 1));
    }
    row.push_back(Fixed(last / json, 3));
    table.Row(row);
  }
  table.Row({"JSON Lines of the records", Fixed(json, 1), "", "", "1.000"});
  table.Row({"zstd -19 of the whole JSON Lines file", "", "",
             Fixed(Zstd19PerRecord(data.jsonl, records), 1), ""});
  table.Print();
  std::cout << "\n";

  Table cost(data.name + ": CPU microseconds per change, 256 KiB pushes at level 3 (median of 5)");
  cost.Header({"", "site: encode", "hub: decode to values"});
  auto [change_run_encode, change_run_decode] = CostPerChange(log, protocol::RunForm::kChangeRun);
  auto [compact_encode, compact_decode] = CostPerChange(log, protocol::RunForm::kCompact);
  cost.Row({"chained (protocol 2)", Fixed(change_run_encode, 2), Fixed(change_run_decode, 2)});
  cost.Row({"compact (protocol 3)", Fixed(compact_encode, 2), Fixed(compact_decode, 2)});
  cost.Row({"compact / chained", Fixed(compact_encode / change_run_encode, 2),
            Fixed(compact_decode / change_run_decode, 2)});
  cost.Print();
  std::cout << "\n";
}

int Run(int participants, const std::string& handmade) {
  std::string bin = SelfDir();
  testing::TempDir tmp("osrc-bench-wire");
  auto sample = [&](int seed) {
    std::string path = tmp.Path("seed" + std::to_string(seed) + ".jsonl");
    MustRun({bin + "/osrc-gen", "--site", "MAS", "--participants", std::to_string(participants),
             "--services-per", "2", "--seed", std::to_string(seed), "--out", path});
    return ReadAll(path);
  };
  std::string seed1 = sample(1);
  std::string hand = ReadAll(handmade);
  size_t hand_records = static_cast<size_t>(std::count(hand.begin(), hand.end(), '\n'));
  std::vector<DataSet> sets = {
      {"osrc-gen seed 1 (settings chosen on it)", "MAS", seed1},
      {"osrc-gen seed 2", "MAS", sample(2)},
      {"handmade.jsonl (other names, places, notes)", "ANT", hand},
      {"osrc-gen seed 1, first " + std::to_string(hand_records) + " records", "MAS",
       FirstLines(seed1, hand_records)}};
  std::cout << "Bytes on the wire per change: Push message bytes, one connection\n\n";
  for (size_t i = 0; i < sets.size(); ++i) Measure(sets[i], tmp.Path("store" + std::to_string(i)));
  std::cout << "reproduce: " << bin << "/osrc-bench-wire --participants " << participants << "\n";
  return 0;
}

}  // namespace
}  // namespace osrc::bench

int main(int argc, char** argv) {
  CLI::App app("Bytes on the wire per change by push encoding, on three data sets.");
  int participants = 10000;
  std::string handmade = std::string(OSRC_SOURCE_DIR) + "/bench/data/handmade.jsonl";
  app.add_option("--participants", participants, "participants of each osrc-gen sample")
      ->check(CLI::Range(100, 1000000));
  app.add_option("--handmade", handmade, "the hand-made JSON Lines file");
  CLI11_PARSE(app, argc, argv);
  try {
    return osrc::bench::Run(participants, handmade);
  } catch (const std::exception& e) {
    std::cerr << "osrc-bench-wire: " << e.what() << "\n";
    return 1;
  }
}
