// The TOML configuration of a data folder: node.toml at a site, hub.toml at the hub. Loading
// checks every key and names the file and key of any error. Thread-compatible values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/error.h"
#include "protocol/link_options.h"
#include "storage/env.h"

namespace osrc::config {

inline constexpr std::string_view kNodeConfigFile = "node.toml";
inline constexpr std::string_view kHubConfigFile = "hub.toml";

struct NodeConfig {
  std::string site;
  std::string hub_endpoint;    // e.g. tcp://127.0.0.1:7400; empty until set
  std::string hub_public_key;  // Z85
  protocol::LinkOptions link;
  storage::EnvOptions store;
};

// A retention period, "10y", "18m" or "400d": whole years, months or days, from 1 to 200 years.
struct RetentionPeriod {
  int years = 0, months = 0, days = 0;
};
// False for anything else.
bool ParseRetentionPeriod(std::string_view text, RetentionPeriod* out);

struct HubConfig {
  std::string hub_id = "MNL";
  std::string bind = "tcp://127.0.0.1:7400";
  uint64_t max_skew_ms = 5 * 60 * 1000;  // Default: 5 minutes ahead of the hub clock
  int group_commit_max = 64;             // Default: up to 64 pushes per commit
  uint64_t report_k = 5;                 // Default: published counts below 5 suppressed
  std::string mirror_pii = "omit";       // [mirror] pii: "omit", "pseudonymise" or "include"
  // The web console's HOST:PORT (port 0: any free one), or "off".
  std::string console_bind = "127.0.0.1:7480";  // Default: loopback only
  // [retention]: collection -> period (RetentionPeriod text); none: nothing is erased for age.
  std::map<std::string, std::string> retention;
  protocol::LinkOptions link;
  storage::EnvOptions store;
};

bool IsSiteCode(std::string_view code);
// "tcp://HOST:PORT" (PORT may be "*" for a hub binding any free port).
bool IsTcpEndpoint(std::string_view endpoint);
// "off", or HOST:PORT with a port from 0 to 65535 (the console's bind).
bool IsConsoleBind(std::string_view bind);

// Load `<dir>/node.toml` or `<dir>/hub.toml`. An error names the file and key, or says why the
// folder cannot be used (missing, or not readable and writable by this user).
Status LoadNodeConfig(const std::string& dir, NodeConfig* out);
Status LoadHubConfig(const std::string& dir, HubConfig* out);
std::string NodeConfigToml(const NodeConfig& config);
std::string HubConfigToml(const HubConfig& config);

}  // namespace osrc::config
