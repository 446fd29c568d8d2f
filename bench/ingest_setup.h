// The fixture of the hub ingest benchmark: a hub and four site nodes, enrolled and each holding
// its imported sample records, built once as a template and copied for each repetition; and the
// raw LMDB baseline of the same data (the hub's record keys and record-state values, in batches
// of the size a node pushes). Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/bench_util.h"

namespace osrc::bench {

inline constexpr const char* kSites[] = {"MAS", "ANT", "MAG", "ADS"};

struct IngestOptions {
  std::string bin;
  int participants = 125000;  // per site, each with 1 service: 2x changes per site
  double scale = 1.0;
  int reps = 5;
  bool commit_stats = false;  // hub at debug level: count its group commits
  // The pushes encoded before the clock starts and sent by the bench process (the hub alone),
  // instead of four `osrc-node sync` processes.
  bool pre_encoded = false;
};

struct SiteData {
  std::string code;
  std::string jsonl;          // the generated records
  uint64_t json_bytes = 0;    // size of `jsonl`
  uint64_t changes = 0;       // change-log head after the import
  double import_seconds = 0;  // `osrc-node import`, run concurrently for the four sites
  // Changes per push, in order, by the node's rule (raw change bytes up to batch_bytes).
  std::vector<size_t> push_sizes;
};

class IngestFixture {
 public:
  // Generates the data, initialises and enrols the hub and nodes and imports, under `work`.
  IngestFixture(const IngestOptions& options, const std::string& work);

  // Copies the template to `dir`: the hub binds 127.0.0.1 port * (its daemon writes the port it
  // got to hub.endpoint); the nodes point nowhere until PointNodesAt.
  void CopyTo(const std::string& dir) const;
  // Points the nodes of the copy in `dir` at `port` (a proxy in front of the hub, or the hub).
  void PointNodesAt(const std::string& dir, uint16_t port) const;

  const std::vector<SiteData>& sites() const { return sites_; }
  uint64_t total_changes() const;
  uint64_t total_json_bytes() const;
  size_t batch_bytes() const { return batch_bytes_; }

  // After a run: loads the hub's stored records (from the hub folder `hub_dir`) in the order the
  // nodes pushed them, batched per push and interleaved across sites.
  void LoadBaseline(const std::string& hub_dir);
  const std::vector<std::vector<const PutOp*>>& baseline_batches() const { return batches_; }
  double baseline_value_bytes() const;

 private:
  std::string work_;
  std::string template_;
  size_t batch_bytes_ = 0;
  std::vector<SiteData> sites_;
  std::vector<std::vector<std::string>> site_keys_;  // per site, record keys in push order
  std::vector<PutOp> ops_;
  std::vector<std::vector<const PutOp*>> batches_;
};

// Replaces every "tcp://127.0.0.1:<from>" with "tcp://127.0.0.1:<to>" in the file at `path`.
void RewritePort(const std::string& path, uint16_t from, uint16_t to);

}  // namespace osrc::bench
