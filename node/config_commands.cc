#include "node/config_commands.h"

#include <iostream>

#include "base/text.h"
#include "config/data_config.h"
#include "protocol/curve_keys.h"
#include "replica/data_folder.h"
#include "replica/run_lock.h"

namespace osrc::node {

std::string EnrolCommand(const std::string& site, const std::string& public_key) {
  return "osrc-hub enrol --data " + std::string(replica::kPackageHubDir) + " --site " + site +
         " --key " + ShellQuoted(public_key);
}

Status CommandConfigShow(const std::string& dir) {
  config::NodeConfig config;
  OSRC_RETURN_IF_ERROR(config::LoadNodeConfig(dir, &config));
  std::cout << "# " << dir << "/" << config::kNodeConfigFile << "\n"
            << config::NodeConfigToml(config);
  return {};
}

Status CommandConfigSetHub(const std::string& dir, const std::string& endpoint,
                           const std::string& hub_key) {
  if (!config::IsTcpEndpoint(endpoint) || endpoint.ends_with(":*")) {
    return {ErrorCode::kBadInput, "must be tcp://HOST:PORT, e.g. tcp://10.0.0.1:7400",
            "--hub " + endpoint};
  }
  if (!protocol::IsZ85Key(hub_key)) {
    return {ErrorCode::kBadInput,
            "not a 40-character Z85 CURVE public key (copy the key osrc-hub init printed)",
            "--hub-key"};
  }
  config::NodeConfig config;
  OSRC_RETURN_IF_ERROR(config::LoadNodeConfig(dir, &config));
  config.hub_endpoint = endpoint;
  config.hub_public_key = hub_key;
  OSRC_RETURN_IF_ERROR(
      replica::WriteFileDurably(dir, config::kNodeConfigFile, config::NodeConfigToml(config)));
  std::cout << "hub set to " << endpoint << " in " << dir << "/" << config::kNodeConfigFile << "\n";
  if (replica::DaemonRunning(dir)) {
    std::cout << "the running daemon still uses the old hub: restart it "
                 "(systemctl restart osrc-node)\n";
  }
  return {};
}

Status CommandKey(const std::string& dir) {
  config::NodeConfig config;
  OSRC_RETURN_IF_ERROR(config::LoadNodeConfig(dir, &config));
  protocol::KeyPair keys;
  OSRC_RETURN_IF_ERROR(protocol::ReadKeyPair(dir, "node", &keys));
  std::cout << keys.public_key << "\n";
  std::cerr << "enrol site " << config.site << " at the hub with:\n  "
            << EnrolCommand(config.site, keys.public_key) << "\n";
  return {};
}

}  // namespace osrc::node
