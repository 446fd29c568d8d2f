#include "tools/loadgen/sim_site.h"

#include <algorithm>
#include <cstdio>

#include "protocol/change.h"
#include "storage/hlc.h"

namespace osrc::loadgen {

SimSite::SimSite(SiteKeys keys, uint64_t changes, double rate, uint64_t offset_ms)
    : keys_(std::move(keys)), changes_(changes), rate_(rate), offset_ms_(offset_ms) {
  log_.reserve(changes);
  written_ms_.reserve(changes);
  ack_latencies_.reserve(changes);
}

std::string SimSite::MakeChange(uint64_t seq, uint64_t now) const {
  char number[16];
  std::snprintf(number, sizeof number, "%07llu", static_cast<unsigned long long>(seq));
  const std::string& site = keys_.site;
  std::vector<protocol::Field> fields = {
      {"consent", true},
      {"family_name", "Loadgen" + std::string(number)},
      {"given_name", std::string("Site ") + site},
      {"migration_status", std::string(seq % 2 ? "ofw" : "returnee")},
      {"sex", std::string(seq % 2 ? "F" : "M")},
      {"site", site},
  };
  protocol::Change change("participants", site + "-P" + number, site, seq,
                          storage::StampOf(now, seq & 0xffff), 0, false, std::move(fields));
  return protocol::EncodeChange(change);
}

uint64_t SimSite::WriteDue(uint64_t now) {
  if (!writing()) return UINT64_MAX;
  auto due = [&](uint64_t i) {  // change i + 1
    return first_due_ms_ + static_cast<uint64_t>(static_cast<double>(i) * 1000.0 / rate_);
  };
  while (log_.size() < changes_ && due(log_.size()) <= now) {
    log_.push_back(MakeChange(log_.size() + 1, now));
    written_ms_.push_back(now);
  }
  return log_.size() < changes_ ? due(log_.size()) : UINT64_MAX;
}

node::LinkStore::Position SimSite::Read() { return {log_.size(), cursor_, acked_, epoch_}; }

std::vector<std::string> SimSite::ReadLog(uint64_t first, uint64_t last, size_t max_bytes) {
  std::vector<std::string> out;
  size_t bytes = 0;
  for (uint64_t seq = first; seq <= last && seq <= log_.size(); ++seq) {
    if (!out.empty() && bytes + log_[seq - 1].size() > max_bytes) break;
    bytes += log_[seq - 1].size();
    out.push_back(log_[seq - 1]);
  }
  return out;
}

Status SimSite::ApplyWelcome(const protocol::Welcome& welcome, bool, uint64_t, uint64_t,
                             Welcomed* out) {
  if (welcome.acked > log_.size()) {
    return {ErrorCode::kCorruption,
            "hub holds sequence " + std::to_string(welcome.acked) +
                " but the simulated log ends at " + std::to_string(log_.size()),
            keys_.site};
  }
  if (welcome.epoch != epoch_) {
    epoch_ = welcome.epoch;
    cursor_ = 0;
  }
  SaveAcked(welcome.acked);
  *out = {log_.size(), acked_, cursor_, false};
  return {};
}

Status SimSite::ApplyDeliver(const protocol::Deliver& deliver, uint64_t* cursor) {
  delivered_ += deliver.changes.size();
  cursor_ = std::max(cursor_, deliver.last);
  if (!cursor_reached_ms_ && cursor_ >= until_cursor_) cursor_reached_ms_ = now_;
  *cursor = cursor_;
  return {};
}

void SimSite::SaveAcked(uint64_t acked) {
  for (uint64_t seq = acked_ + 1; seq <= acked && seq <= written_ms_.size(); ++seq) {
    ack_latencies_.push_back(static_cast<uint32_t>(now_ - written_ms_[seq - 1]));
  }
  acked_ = std::max(acked_, acked);
}

void SimSite::Report(const std::string&, const std::string& failure, uint64_t) {
  if (!failure.empty()) last_failure_ = failure;
}

}  // namespace osrc::loadgen
