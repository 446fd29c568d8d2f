// osrc-bench-report: times `osrc-hub report` work in-process (BuildReport, then disclosure
// control) over a hub store of P participants and 3P services (default P = 1,000,000), against
// a raw LMDB cursor scan of the same records' bytes, measured in the same run. The store is
// written untimed, with changes merged as the hub merges them. Reports medians of --reps runs.

#include <filesystem>
#include <iostream>

#include "bench/bench_util.h"
#include "bench/sample_hub.h"
#include "config/data_config.h"
#include "report/disclosure.h"
#include "report/reports.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace osrc::bench {
namespace {

double ReportSeconds(storage::Store& store, const report::ReportRequest& request, size_t* hidden,
                     uint64_t* total) {
  double start = NowSeconds();
  storage::ReadTxn txn(store.env());
  report::CountTable table({});
  Status status = report::BuildReport(store, txn, request, "2026-12-31", &table);
  if (!status.ok()) throw std::runtime_error(status.ToString());
  report::Suppression s = report::Suppress(table, report::kDefaultThreshold);
  *hidden = s.primary + s.secondary;
  *total = table.count(table.size() - 1);
  return NowSeconds() - start;
}

int Run(const SampleOptions& options) {
  int participants = options.Scaled();
  testing::TempDir dir("osrc-bench-report");
  storage::EnvOptions store_options = config::HubConfig{}.store;
  store_options.durable = false;
  store_options.map_size = size_t{16} << 30;  // room for the whole data set at scale 1
  std::cout << "filling a hub store: " << Thousands(participants) << " participants, "
            << Thousands(3.0 * participants) << " services (untimed)" << std::endl;
  storage::Store store(dir.path(), store_options);
  Fill(store, participants);

  struct Case {
    std::string collection;
    report::ReportRequest request;
  };
  std::vector<Case> cases = {
      {"participants", {"participants", {"site", "sex", "age_band"}, "", "", ""}},
      {"participants",
       {"participants", {"destination_country", "migration_status", "sex"}, "", "", ""}},
      {"services", {"services", {"service_type", "month"}, "", "", ""}},
  };
  Table table("reports vs a raw LMDB scan of the same records (medians of " +
              std::to_string(options.reps) + ")");
  table.Header({"report", "records", "raw scan s", "report s", "ratio", "cells hidden"});
  for (const Case& c : cases) {
    std::vector<double> raw, built;
    size_t hidden = 0;
    uint64_t total = 0, checksum = 0;
    for (int rep = 0; rep < options.reps; ++rep) {
      raw.push_back(RawScanSeconds(store, c.collection, &checksum));
      built.push_back(ReportSeconds(store, c.request, &hidden, &total));
    }
    std::string by;
    for (const std::string& dim : c.request.by) by += (by.empty() ? "" : ",") + dim;
    double raw_median = Median(raw), report_median = Median(built);
    table.Row({c.request.name + " by " + by, Thousands(static_cast<double>(total)),
               Fixed(raw_median, 3), Fixed(report_median, 3), Fixed(report_median / raw_median, 1),
               std::to_string(hidden)});
  }
  table.Print();
  return 0;
}

}  // namespace
}  // namespace osrc::bench

int main(int argc, char** argv) {
  return osrc::bench::SampleBenchMain(argc, argv, "osrc-bench-report", "reports vs a raw LMDB scan",
                                      {.participants = 1'000'000, .reps = 5}, osrc::bench::Run);
}
