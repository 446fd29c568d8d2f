// The osrc-node subcommands, one function each, called by the CLI with parsed arguments.
#pragma once

#include <string>

#include "base/error.h"
#include "node/node.h"
#include "replica/record_cli.h"

namespace osrc::node {

struct SyncOptions {
  int timeout_seconds = 60;
};

struct BundleOptions {
  std::string file;
};

Status CommandInit(const InitOptions& options);
Status CommandPut(const std::string& dir, const std::string& collection, const std::string& id,
                  const std::string& json);
// Erases one of the site's records and those referencing it; the orders go to the hub.
Status CommandErase(const std::string& dir, const std::string& collection, const std::string& id,
                    const std::string& reason);
Status CommandDelete(const std::string& dir, const std::string& collection, const std::string& id,
                     bool cascade);
Status CommandGet(const std::string& dir, const std::string& collection, const std::string& id);
Status CommandImport(const std::string& dir, const replica::ImportArgs& args);
Status CommandExport(const std::string& dir, const std::string& collection, bool include_personal,
                     const std::string& format);
Status CommandStatus(const std::string& dir, bool as_json);
// Lists the conflicts kept on this site's own records (values shown: they are the site's).
Status CommandConflicts(const std::string& dir, bool as_json);
Status CommandSync(const std::string& dir, const SyncOptions& options);
Status CommandRun(const std::string& dir);
Status CommandBundleExport(const std::string& dir, const BundleOptions& options);
Status CommandBundleImport(const std::string& dir, const BundleOptions& options);

}  // namespace osrc::node
