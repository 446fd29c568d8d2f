// Hub: an opened hub data folder (config, keys, store, epoch) and its record writer, used by
// every osrc-hub command and the daemon. Thread-compatible.
#pragma once

#include <memory>
#include <shared_mutex>
#include <string>

#include "config/data_config.h"
#include "config/schema.h"
#include "protocol/curve_keys.h"
#include "protocol/seal.h"
#include "replica/records.h"
#include "storage/hlc.h"
#include "storage/store.h"

namespace osrc::hub {

struct InitOptions {
  std::string dir;
  std::string bind;
  std::string hub_id;
};

Status InitHub(const InitOptions& options, std::string* public_key);

// `<dir>/hub.endpoint` holds the endpoint the daemon bound, e.g. "tcp://127.0.0.1:40123\n",
// written once it is bound: with `bind` on port `*` it is how tests and scripts learn the port.
inline constexpr std::string_view kEndpointFile = "hub.endpoint";
Status WriteBoundEndpoint(const std::string& dir, const std::string& endpoint);
// A fresh random epoch (16 bytes).
std::string NewEpoch();

class Hub {
 public:
  // `feed`: kKeep starts the store's feed if it keeps none yet (the mirror's; storage/store.h).
  static Status Open(const std::string& dir, std::unique_ptr<Hub>* out,
                     storage::Store::Feed feed = storage::Store::Feed::kNone);
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  const std::string& dir() const { return dir_; }
  const config::HubConfig& config() const { return config_; }
  // Binds `endpoint` instead of hub.toml's `bind` (a daemon resuming on the port it had).
  void BindInstead(std::string endpoint) { config_.bind = std::move(endpoint); }
  const protocol::KeyPair& keys() const { return keys_; }
  // Seals the hub's changes for delivery and checks them when a site hands them back.
  const protocol::Sealer& sealer() const { return sealer_; }
  const config::Schema& schema() const { return schema_; }
  storage::Store& store() { return *store_; }
  storage::Clock& clock() { return clock_; }
  // Writes by the central office: logged and indexed for delivery.
  replica::Writer writer();
  std::string epoch();
  // Held shared around every transaction of the daemon, exclusively to grow the map.
  std::shared_mutex& store_guard() { return store_guard_; }

 private:
  Hub(std::string dir, config::HubConfig config, protocol::KeyPair keys, storage::Store::Feed feed);

  std::string dir_;
  config::HubConfig config_;
  protocol::KeyPair keys_;
  protocol::Sealer sealer_;
  const config::Schema& schema_;
  storage::SystemClock clock_;
  std::unique_ptr<storage::Store> store_;
  std::shared_mutex store_guard_;
};

}  // namespace osrc::hub
