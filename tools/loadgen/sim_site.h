// One simulated site of osrc-loadgen: its key, a change log kept in memory that grows at a set
// rate, and the LinkStore the site's LinkSession reads and writes. What it measures: how long each
// change waited from the moment it was written to the hub's acknowledgement, and when the site's
// hub cursor reached a given sequence. Not thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "node/link_session.h"
#include "protocol/curve_keys.h"

namespace osrc::loadgen {

struct SiteKeys {
  std::string site;
  protocol::KeyPair keys;
};

class SimSite : public node::LinkStore {
 public:
  // Once started, change i (from 1) is written at `start + offset_ms + (i - 1) * 1000 / rate`.
  SimSite(SiteKeys keys, uint64_t changes, double rate, uint64_t offset_ms);

  const SiteKeys& keys() const { return keys_; }
  // A site writes from when it is first in step: a real one is connected long before.
  void StartWriting(uint64_t now) { first_due_ms_ = now + offset_ms_; }
  bool writing() const { return first_due_ms_ != UINT64_MAX; }
  // Writes the changes due by `now`; returns when the next one is due (UINT64_MAX: none left or
  // not writing yet).
  uint64_t WriteDue(uint64_t now);
  uint64_t changes() const { return changes_; }
  uint64_t acked() const { return acked_; }
  uint64_t cursor() const { return cursor_; }
  uint64_t delivered() const { return delivered_; }
  // Milliseconds from write to acknowledgement of changes 1, 2, ... as far as acknowledged;
  // written_ms() gives when each was written.
  const std::vector<uint32_t>& ack_latencies() const { return ack_latencies_; }
  const std::vector<uint64_t>& written_ms() const { return written_ms_; }
  // When the cursor first reached `until_cursor` (set by WatchCursor), if it has.
  std::optional<uint64_t> cursor_reached_ms() const { return cursor_reached_ms_; }
  void WatchCursor(uint64_t until_cursor) { until_cursor_ = until_cursor; }
  // The time the session's calls are stamped with, set by the driver before each call.
  void SetNow(uint64_t now) { now_ = now; }

  Position Read() override;
  uint64_t LogHead() override { return log_.size(); }
  std::vector<std::string> ReadLog(uint64_t first, uint64_t last, size_t max_bytes) override;
  Status ApplyWelcome(const protocol::Welcome& welcome, bool live, uint64_t round_trip_ms,
                      uint64_t sent_through, Welcomed* out) override;
  Status ApplyDeliver(const protocol::Deliver& deliver, uint64_t* cursor) override;
  void SaveAcked(uint64_t acked) override;
  std::optional<protocol::Reoffer> NextReoffer(size_t) override { return std::nullopt; }
  void DropReoffered(uint64_t) override {}
  void Report(const std::string&, const std::string& failure, uint64_t) override;

  const std::string& last_failure() const { return last_failure_; }

 private:
  std::string MakeChange(uint64_t seq, uint64_t now) const;

  SiteKeys keys_;
  uint64_t changes_;
  double rate_;
  uint64_t offset_ms_;
  uint64_t first_due_ms_ = UINT64_MAX;
  std::vector<std::string> log_;      // change wire bytes, seq i at i - 1
  std::vector<uint64_t> written_ms_;  // when each was written
  std::string epoch_;
  uint64_t acked_ = 0;
  uint64_t cursor_ = 0;
  uint64_t delivered_ = 0;
  uint64_t until_cursor_ = UINT64_MAX;
  std::optional<uint64_t> cursor_reached_ms_;
  std::vector<uint32_t> ack_latencies_;
  std::string last_failure_;
  uint64_t now_ = 0;
};

}  // namespace osrc::loadgen
