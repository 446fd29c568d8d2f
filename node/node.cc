#include "node/node.h"

#include <filesystem>

#include "config/schema_loader.h"
#include "replica/data_folder.h"

namespace osrc::node {

Status InitNode(const InitOptions& options, std::string* public_key) {
  if (!config::IsSiteCode(options.site)) {
    return {ErrorCode::kBadInput, "site code must be 2 to 8 capitals or digits, e.g. MAS",
            "--site " + options.site};
  }
  if (!options.hub_endpoint.empty() && !config::IsTcpEndpoint(options.hub_endpoint)) {
    return {ErrorCode::kBadInput, "must be tcp://HOST:PORT, e.g. tcp://10.0.0.1:7400",
            "--hub " + options.hub_endpoint};
  }
  if (!options.hub_key.empty() && !protocol::IsZ85Key(options.hub_key)) {
    return {ErrorCode::kBadInput, "not a 40-character Z85 CURVE public key", "--hub-key"};
  }
  OSRC_RETURN_IF_ERROR(replica::CreateDataFolder(options.dir, config::kNodeConfigFile));
  protocol::KeyPair keys = protocol::GenerateKeyPair();
  OSRC_RETURN_IF_ERROR(protocol::WriteKeyPair(options.dir, "node", keys));
  config::NodeConfig config;
  config.site = options.site;
  config.hub_endpoint = options.hub_endpoint;
  config.hub_public_key = options.hub_key;
  {
    storage::Store store(options.dir, config.store);
    OSRC_RETURN_IF_ERROR(replica::LoadDefaultReferenceData(store, config::DefaultSchema()));
    storage::WriteTxn txn(store.env());
    store.PutMeta(txn, storage::kMetaKind, "node");
    store.PutMeta(txn, storage::kMetaOrigin, config.site);
    store.PutMetaU64(txn, storage::kMetaStampsAhead, 0);  // no change yet, none ahead
    txn.Commit();
  }
  // The config file last: its presence marks a complete node.
  OSRC_RETURN_IF_ERROR(replica::WriteFileDurably(options.dir, config::kNodeConfigFile,
                                                 config::NodeConfigToml(config)));
  *public_key = keys.public_key;
  return {};
}

Node::Node(std::string dir, config::NodeConfig config, protocol::KeyPair keys)
    : dir_(std::move(dir)),
      config_(std::move(config)),
      keys_(std::move(keys)),
      schema_(config::DefaultSchema()) {
  store_ = std::make_unique<storage::Store>(dir_, config_.store);
}

Status Node::Open(const std::string& dir, std::unique_ptr<Node>* out) {
  config::NodeConfig config;
  OSRC_RETURN_IF_ERROR(config::LoadNodeConfig(dir, &config));
  protocol::KeyPair keys;
  OSRC_RETURN_IF_ERROR(protocol::ReadKeyPair(dir, "node", &keys));
  std::error_code error;
  if (!std::filesystem::exists(dir + "/data.mdb", error)) {
    return {ErrorCode::kBadInput, "no store in this data folder (data.mdb missing)", dir};
  }
  std::unique_ptr<Node> node(new Node(dir, std::move(config), std::move(keys)));
  bool is_node = false;
  {
    storage::ReadTxn txn(node->store().env());
    auto kind = node->store().GetMeta(txn, storage::kMetaKind);
    is_node = kind && *kind == "node";
  }
  if (!is_node) return {ErrorCode::kBadInput, "not a site node's data folder", dir};
  *out = std::move(node);
  return {};
}

}  // namespace osrc::node
