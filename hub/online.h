// Which sites have a live session at the running hub daemon, for `osrc-hub status` run beside it:
// the daemon keeps `<dir>/online.json` ({"MAS": since_ms, ...}) current; a reader trusts it only
// while a daemon holds the folder's run lock, so a killed daemon leaves every site offline.
// Thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/error.h"

namespace osrc::hub {

inline constexpr std::string_view kOnlineFile = "online.json";

// Site code -> time its first live session began.
using OnlineSites = std::map<std::string, uint64_t, std::less<>>;

// Counts live sessions per site and writes the online file when the set of sites changed.
class OnlineRegister {
 public:
  explicit OnlineRegister(std::string dir) : dir_(std::move(dir)) {}

  void SessionStarted(const std::string& site, uint64_t now_ms);
  void SessionEnded(const std::string& site);
  // Writes the file if anything changed since the last call.
  Status Flush();
  // Removes the file (the daemon is stopping).
  void Clear();

 private:
  std::string dir_;
  std::map<std::string, std::pair<int, uint64_t>, std::less<>> live_;  // count, since
  bool dirty_ = true;
};

// The sites online now: empty when no daemon runs on `dir`.
OnlineSites ReadOnlineSites(const std::string& dir);

}  // namespace osrc::hub
