#include "hub/online.h"

#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "replica/data_folder.h"
#include "replica/run_lock.h"

namespace osrc::hub {

void OnlineRegister::SessionStarted(const std::string& site, uint64_t now_ms) {
  auto [it, added] = live_.try_emplace(site, 0, now_ms);
  ++it->second.first;
  dirty_ = dirty_ || added;
}

void OnlineRegister::SessionEnded(const std::string& site) {
  auto it = live_.find(site);
  if (it == live_.end()) return;
  if (--it->second.first <= 0) {
    live_.erase(it);
    dirty_ = true;
  }
}

Status OnlineRegister::Flush() {
  if (!dirty_) return {};
  nlohmann::json sites = nlohmann::json::object();
  for (const auto& [site, entry] : live_) sites[site] = entry.second;
  OSRC_RETURN_IF_ERROR(replica::WriteFileDurably(dir_, kOnlineFile, sites.dump() + "\n"));
  dirty_ = false;
  return {};
}

void OnlineRegister::Clear() {
  live_.clear();
  ::unlink((dir_ + "/" + std::string(kOnlineFile)).c_str());
  dirty_ = false;
}

OnlineSites ReadOnlineSites(const std::string& dir) {
  OnlineSites online;
  if (!replica::DaemonRunning(dir)) return online;
  std::ifstream in(dir + "/" + std::string(kOnlineFile));
  if (!in) return online;
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json sites = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!sites.is_object()) return online;
  for (const auto& [site, since] : sites.items()) {
    if (since.is_number_unsigned()) online[site] = since.get<uint64_t>();
  }
  return online;
}

}  // namespace osrc::hub
