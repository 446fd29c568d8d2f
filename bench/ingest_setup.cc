#include "bench/ingest_setup.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "config/data_config.h"
#include "protocol/change.h"
#include "storage/store.h"
#include "tests/support/process.h"

namespace osrc::bench {
namespace {

// The node's push rule (node/link_session.cc ReadPush): changes in log order until their raw bytes
// reach batch_bytes, at most this many.
constexpr size_t kMaxChangesPerPush = 20000;

std::string Endpoint(uint16_t port) { return "tcp://127.0.0.1:" + std::to_string(port); }

// The nodes' hub port in the template: a placeholder, rewritten in every copy.
constexpr uint16_t kPlaceholderPort = 1;

}  // namespace

void RewritePort(const std::string& path, uint16_t from, uint16_t to) {
  std::string text;
  {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  std::string old_endpoint = Endpoint(from), new_endpoint = Endpoint(to);
  size_t found = 0;
  for (size_t at = text.find(old_endpoint); at != std::string::npos;
       at = text.find(old_endpoint, at + new_endpoint.size())) {
    text.replace(at, old_endpoint.size(), new_endpoint);
    ++found;
  }
  if (found == 0) throw std::runtime_error("no " + old_endpoint + " in " + path);
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

IngestFixture::IngestFixture(const IngestOptions& options, const std::string& work)
    : work_(work), template_(work + "/template") {
  const std::string& bin = options.bin;
  int participants = std::max(1, static_cast<int>(options.participants * options.scale));
  batch_bytes_ = config::NodeConfig{}.link.batch_bytes;
  std::filesystem::create_directories(template_);
  std::string hub_dir = template_ + "/hub";
  std::string hub_key = LastLine(
      MustRun({bin + "/osrc-hub", "init", "--data", hub_dir, "--bind", "tcp://127.0.0.1:*"}));
  for (const char* code : kSites) {
    SiteData site;
    site.code = code;
    site.jsonl = work_ + "/" + site.code + ".jsonl";
    MustRun({bin + "/osrc-gen", "--site", site.code, "--participants", std::to_string(participants),
             "--services-per", "1", "--out", site.jsonl});
    site.json_bytes = FileBytes(site.jsonl);
    std::string node_dir = template_ + "/" + site.code;
    std::string key =
        LastLine(MustRun({bin + "/osrc-node", "init", "--data", node_dir, "--site", site.code,
                          "--hub", Endpoint(kPlaceholderPort), "--hub-key", hub_key}));
    MustRun({bin + "/osrc-hub", "enrol", "--data", hub_dir, "--site", site.code, "--key", key});
    sites_.push_back(std::move(site));
  }
  // The four imports at once, as four sites would.
  std::vector<std::unique_ptr<testing::Process>> imports;
  double start = NowSeconds();
  for (const SiteData& site : sites_) {
    imports.push_back(std::make_unique<testing::Process>(std::vector<std::string>{
        bin + "/osrc-node", "import", "--data", template_ + "/" + site.code, site.jsonl}));
  }
  for (size_t i = 0; i < imports.size(); ++i) {
    auto status = imports[i]->WaitFor(std::chrono::minutes(30));
    if (!status || !status->success()) {
      throw std::runtime_error("import failed: " + imports[i]->stderr_text());
    }
    sites_[i].import_seconds = NowSeconds() - start;
  }
  // Each node's log: its record keys in push order and its push sizes.
  for (SiteData& site : sites_) {
    storage::Store store(template_ + "/" + site.code, config::NodeConfig{}.store);
    storage::ReadTxn txn(store.env());
    site.changes = store.LogHead(txn);
    std::vector<std::string> keys;
    size_t in_push = 0, bytes = 0;
    for (uint64_t seq = 1; seq <= site.changes; ++seq) {
      std::string entry = store.GetLog(txn, seq).value();
      protocol::Change change;
      Status status = protocol::DecodeChange(entry, protocol::DecodeLimits{}, &change);
      if (!status.ok()) throw std::runtime_error("bad log entry: " + status.ToString());
      keys.push_back(storage::RecordKey(change.collection, change.id));
      ++in_push;
      bytes += entry.size();
      if (bytes >= batch_bytes_ || in_push == kMaxChangesPerPush) {
        site.push_sizes.push_back(in_push);
        in_push = bytes = 0;
      }
    }
    if (in_push > 0) site.push_sizes.push_back(in_push);
    site_keys_.push_back(std::move(keys));
  }
}

void IngestFixture::CopyTo(const std::string& dir) const {
  std::filesystem::copy(template_, dir, std::filesystem::copy_options::recursive);
}

void IngestFixture::PointNodesAt(const std::string& dir, uint16_t port) const {
  for (const SiteData& site : sites_) {
    RewritePort(dir + "/" + site.code + "/" + std::string(config::kNodeConfigFile),
                kPlaceholderPort, port);
  }
}

uint64_t IngestFixture::total_changes() const {
  uint64_t total = 0;
  for (const SiteData& site : sites_) total += site.changes;
  return total;
}

uint64_t IngestFixture::total_json_bytes() const {
  uint64_t total = 0;
  for (const SiteData& site : sites_) total += site.json_bytes;
  return total;
}

void IngestFixture::LoadBaseline(const std::string& hub_dir) {
  storage::Store store(hub_dir, config::HubConfig{}.store);
  storage::ReadTxn txn(store.env());
  ops_.clear();
  ops_.reserve(total_changes());
  std::vector<size_t> first_op;  // per site, its first op
  for (const auto& keys : site_keys_) {
    first_op.push_back(ops_.size());
    for (const std::string& key : keys) {
      auto value = txn.Get(store.records(), key);
      if (!value) throw std::runtime_error("hub lacks a pushed record");
      ops_.push_back({0, key, std::string(*value), 0});
    }
  }
  // One batch per push, round-robin over the sites as their pushes arrive together.
  batches_.clear();
  std::vector<size_t> next_push(sites_.size(), 0), next_op = first_op;
  for (bool more = true; more;) {
    more = false;
    for (size_t s = 0; s < sites_.size(); ++s) {
      if (next_push[s] >= sites_[s].push_sizes.size()) continue;
      more = true;
      std::vector<const PutOp*> batch;
      for (size_t n = sites_[s].push_sizes[next_push[s]++]; n > 0; --n) {
        batch.push_back(&ops_[next_op[s]++]);
      }
      batches_.push_back(std::move(batch));
    }
  }
}

double IngestFixture::baseline_value_bytes() const {
  double bytes = 0;
  for (const PutOp& op : ops_) bytes += op.value.size();
  return ops_.empty() ? 0 : bytes / ops_.size();
}

}  // namespace osrc::bench
