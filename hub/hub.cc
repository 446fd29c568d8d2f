#include "hub/hub.h"

#include <filesystem>
#include <random>

#include "config/schema_loader.h"
#include "hub/delivery.h"
#include "replica/data_folder.h"

namespace osrc::hub {

std::string NewEpoch() {
  std::random_device random;
  std::string epoch(16, '\0');
  for (char& c : epoch) c = static_cast<char>(random());
  return epoch;
}

Status InitHub(const InitOptions& options, std::string* public_key) {
  config::HubConfig config;
  if (!options.hub_id.empty()) config.hub_id = options.hub_id;
  if (!options.bind.empty()) config.bind = options.bind;
  if (!config::IsSiteCode(config.hub_id)) {
    return {ErrorCode::kBadInput, "hub id must be 2 to 8 capitals or digits", "--hub-id"};
  }
  if (!config::IsTcpEndpoint(config.bind)) {
    return {ErrorCode::kBadInput, "must be tcp://ADDRESS:PORT (PORT * for any free port)",
            "--bind " + config.bind};
  }
  OSRC_RETURN_IF_ERROR(replica::CreateDataFolder(options.dir, config::kHubConfigFile));
  protocol::KeyPair keys = protocol::GenerateKeyPair();
  OSRC_RETURN_IF_ERROR(protocol::WriteKeyPair(options.dir, "hub", keys));
  {
    storage::Store store(options.dir, config.store);
    OSRC_RETURN_IF_ERROR(replica::LoadDefaultReferenceData(store, config::DefaultSchema()));
    storage::WriteTxn txn(store.env());
    store.PutMeta(txn, storage::kMetaKind, "hub");
    store.PutMeta(txn, storage::kMetaOrigin, config.hub_id);
    store.PutMeta(txn, storage::kMetaEpoch, NewEpoch());
    txn.Commit();
  }
  OSRC_RETURN_IF_ERROR(replica::WriteFileDurably(options.dir, config::kHubConfigFile,
                                                 config::HubConfigToml(config)));
  *public_key = keys.public_key;
  return {};
}

Status WriteBoundEndpoint(const std::string& dir, const std::string& endpoint) {
  return replica::WriteFileDurably(dir, kEndpointFile, endpoint + "\n");
}

Hub::Hub(std::string dir, config::HubConfig config, protocol::KeyPair keys,
         storage::Store::Feed feed)
    : dir_(std::move(dir)),
      config_(std::move(config)),
      keys_(std::move(keys)),
      sealer_(keys_.secret_key),
      schema_(config::DefaultSchema()) {
  store_ = std::make_unique<storage::Store>(dir_, config_.store, feed);
}

Status Hub::Open(const std::string& dir, std::unique_ptr<Hub>* out, storage::Store::Feed feed) {
  config::HubConfig config;
  OSRC_RETURN_IF_ERROR(config::LoadHubConfig(dir, &config));
  protocol::KeyPair keys;
  OSRC_RETURN_IF_ERROR(protocol::ReadKeyPair(dir, "hub", &keys));
  std::error_code error;
  if (!std::filesystem::exists(dir + "/data.mdb", error)) {
    return {ErrorCode::kBadInput, "no store in this data folder (data.mdb missing)", dir};
  }
  std::unique_ptr<Hub> hub(new Hub(dir, std::move(config), std::move(keys), feed));
  bool is_hub = false;
  {
    storage::ReadTxn txn(hub->store().env());
    auto kind = hub->store().GetMeta(txn, storage::kMetaKind);
    is_hub = kind && *kind == "hub";
  }
  if (!is_hub) return {ErrorCode::kBadInput, "not a hub's data folder", dir};
  *out = std::move(hub);
  return {};
}

replica::Writer Hub::writer() {
  replica::Writer writer{*store_, schema_, clock_, config_.hub_id, true, {}};
  writer.on_change = [this](storage::WriteTxn& txn, const protocol::Change& change) {
    IndexDelivery(*store_, txn, DestinationOf(schema_, change), change.seq);
  };
  return writer;
}

std::string Hub::epoch() {
  storage::ReadTxn txn(store_->env());
  return std::string(store_->GetMeta(txn, storage::kMetaEpoch).value_or(""));
}

}  // namespace osrc::hub
