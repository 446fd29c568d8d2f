#include "bench/site_store.h"

#include <filesystem>
#include <stdexcept>

#include "config/data_config.h"
#include "config/schema_loader.h"
#include "replica/records.h"
#include "storage/store.h"

namespace osrc::bench {

storage::EnvOptions NodeStoreOptions(bool durable) {
  storage::EnvOptions options = config::NodeConfig{}.store;
  options.durable = durable;
  return options;
}

void PrepareSiteStore(const std::string& dir, const std::string& site) {
  std::filesystem::create_directories(dir);
  storage::Store store(dir, NodeStoreOptions());
  Status status = replica::LoadDefaultReferenceData(store, config::DefaultSchema());
  if (!status.ok()) throw std::runtime_error(status.ToString());
  storage::WriteTxn txn(store.env());
  store.PutMeta(txn, storage::kMetaKind, "node");
  store.PutMeta(txn, storage::kMetaOrigin, site);
  txn.Commit();
}

}  // namespace osrc::bench
