// `osrc-loadgen run`: many simulated sites in one process, each with its own CURVE key, DEALER
// connection and LinkSession (the same protocol rules as osrc-node), driven by a few poll loops.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "tools/loadgen/sim_site.h"

namespace osrc::loadgen {

struct RunOptions {
  std::string hub_endpoint;
  std::string hub_key;
  uint64_t changes_per_site = 60;
  double rate = 1.0;                // changes per second per site
  uint64_t until_cursor = 0;        // also wait until every site's hub cursor reaches this
  double timeout_seconds = 600;     // give up (and report) after this long
  double connect_over_seconds = 0;  // site i of N first connects at i * this / N; 0: all at once
  int io_threads = 2;
  int threads = 4;  // poll loops, each driving a share of the sites
};

struct RunResult {
  size_t sites = 0;
  size_t sites_connected = 0;  // reached "in step" at least once
  double connect_seconds = 0;  // from the start until the last of them did
  uint64_t changes_acked = 0;
  uint64_t changes_expected = 0;
  double ack_p50_ms = 0;
  double ack_p99_ms = 0;
  double ack_max_ms = 0;
  double ack_p99_after_connect_ms = 0;  // of changes written once every site was connected
  uint64_t delivered = 0;               // changes delivered to all sites together
  size_t sites_at_cursor = 0;           // sites whose cursor reached until_cursor
  uint64_t cursor_last_unix_ms = 0;     // when the last of them did
  double seconds = 0;
  double cpu_seconds = 0;  // this process's, user and system: the simulator's own cost
  bool timed_out = false;
  std::vector<std::string> failures;  // "SITE: last failure", for sites that had one
};

// Reads `site,public_key,secret_key` lines (as `osrc-loadgen keys` writes).
Status ReadKeys(const std::string& path, std::vector<SiteKeys>* out);
Status Run(const std::vector<SiteKeys>& sites, const RunOptions& options, RunResult* result);
std::string ResultJson(const RunResult& result);

}  // namespace osrc::loadgen
