// Node: an opened site data folder (config, keys, store) and the site's record operations.
// Used by every osrc-node command and the daemon. Thread-compatible.
#pragma once

#include <memory>
#include <string>

#include "config/data_config.h"
#include "config/schema.h"
#include "protocol/curve_keys.h"
#include "replica/records.h"
#include "storage/hlc.h"
#include "storage/store.h"

namespace osrc::node {

struct InitOptions {
  std::string dir;
  std::string site;
  std::string hub_endpoint;
  std::string hub_key;
};

// Creates a site data folder; `*public_key` is the site's new CURVE public key.
Status InitNode(const InitOptions& options, std::string* public_key);

class Node {
 public:
  // Opens an initialised data folder; a clear error if `dir` is missing or not a node.
  static Status Open(const std::string& dir, std::unique_ptr<Node>* out);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& dir() const { return dir_; }
  const config::NodeConfig& config() const { return config_; }
  const protocol::KeyPair& keys() const { return keys_; }
  const config::Schema& schema() const { return schema_; }
  storage::Store& store() { return *store_; }
  storage::Clock& clock() { return clock_; }
  replica::Writer writer() { return {*store_, schema_, clock_, config_.site, false, {}}; }

 private:
  Node(std::string dir, config::NodeConfig config, protocol::KeyPair keys);

  std::string dir_;
  config::NodeConfig config_;
  protocol::KeyPair keys_;
  const config::Schema& schema_;
  storage::SystemClock clock_;
  std::unique_ptr<storage::Store> store_;
};

}  // namespace osrc::node
