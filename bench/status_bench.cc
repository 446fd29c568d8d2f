// osrc-bench-status: times `osrc-hub status` (a real process) on a hub holding P participants and
// 3P services of four enrolled sites (default P = 2,500,000: 10,000,000 records), against a raw
// LMDB cursor scan of the same records measured in the same run: what status would cost if it
// counted records instead of reading the store's kept counts. The store is written untimed.
// Reports medians of --reps runs.

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench/bench_util.h"
#include "bench/sample_hub.h"
#include "config/data_config.h"
#include "storage/store.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::bench {
namespace {

// Enrols the sample data's four sites, so status lists their records.
void EnrolSites(const std::string& tmp, const std::string& hub, const std::string& hub_key) {
  for (const char* site : {"MAS", "ANT", "MAG", "ADS"}) {
    std::string key =
        LastLine(MustRun({testing::BinPath("osrc-node"), "init", "--data", tmp + "/" + site,
                          "--site", site, "--hub", "tcp://127.0.0.1:9", "--hub-key", hub_key}));
    MustRun({testing::BinPath("osrc-hub"), "enrol", "--data", hub, "--site", site, "--key", key});
  }
}

int Run(const SampleOptions& options) {
  int participants = options.Scaled();
  testing::TempDir tmp("osrc-bench-status");
  std::string hub = tmp.Path("hub");
  std::string hub_key = LastLine(MustRun(
      {testing::BinPath("osrc-hub"), "init", "--data", hub, "--bind", "tcp://127.0.0.1:*"}));
  EnrolSites(tmp.path(), hub, hub_key);
  std::cout << "filling a hub store: " << Thousands(participants) << " participants, "
            << Thousands(3.0 * participants) << " services (untimed)" << std::endl;
  storage::EnvOptions store_options = config::HubConfig{}.store;
  store_options.durable = false;
  store_options.map_size = size_t{64} << 30;  // room for 10,000,000 records
  uint64_t records = 0;
  std::vector<double> raw, status;
  {
    storage::Store store(hub, store_options, storage::Store::Feed::kKeep);
    Fill(store, participants);
    uint64_t checksum = 0;
    for (int rep = 0; rep < options.reps; ++rep) {
      raw.push_back(RawScanSeconds(store, "", &checksum));
    }
  }
  for (int rep = 0; rep < options.reps; ++rep) {
    double start = NowSeconds();
    std::string out = MustRun({testing::BinPath("osrc-hub"), "status", "--data", hub, "--json"});
    status.push_back(NowSeconds() - start);
    records = 0;
    nlohmann::json parsed = nlohmann::json::parse(out);
    for (const auto& site : parsed["sites"]) {
      records += site["records"].get<uint64_t>();
    }
  }
  if (records != 4ull * participants) {
    throw std::runtime_error("status counted " + std::to_string(records) + " records, not " +
                             std::to_string(4ull * participants));
  }
  Table table("osrc-hub status vs a raw LMDB scan of the same records (medians of " +
              std::to_string(options.reps) + ")");
  table.Header({"records", "raw scan s", "status s", "status / scan"});
  double raw_median = Median(raw), status_median = Median(status);
  table.Row({Thousands(static_cast<double>(records)), Fixed(raw_median, 3), Fixed(status_median, 3),
             Fixed(status_median / raw_median, 3)});
  table.Print();
  return 0;
}

}  // namespace
}  // namespace osrc::bench

int main(int argc, char** argv) {
  return osrc::bench::SampleBenchMain(argc, argv, "osrc-bench-status",
                                      "osrc-hub status on a large hub vs a raw LMDB scan",
                                      {.participants = 2'500'000, .reps = 5}, osrc::bench::Run);
}
