// The osrc-hub subcommands, one function each, called by the CLI with parsed arguments.
#pragma once

#include <string>

#include "base/error.h"
#include "hub/hub.h"
#include "replica/record_cli.h"

namespace osrc::hub {

Status CommandInit(const InitOptions& options);
struct EnrolOptions {
  std::string site, key, name;
  std::string file;  // site,public_key lines: many sites in one transaction
  bool replace = false;
};

// Enrols one site or a file of them; a site enrolled with another key needs `replace`.
Status CommandEnrol(const std::string& dir, const EnrolOptions& options);
Status CommandRevoke(const std::string& dir, const std::string& site);
// `console`: the console's HOST:PORT or "off", over `[console] bind`; empty: the config's.
Status CommandRun(const std::string& dir, const std::string& console);
Status CommandBundleImport(const std::string& dir, const std::string& file,
                           const std::string& reply);
Status CommandBackup(const std::string& dir, const std::string& to);
Status CommandRestore(const std::string& dir, const std::string& from);
// `args.collection`: the reference collection.
Status CommandRefImport(const std::string& dir, const replica::ImportArgs& args);
// Imports `text` (a whole file, all of it or nothing) into reference `collection` as `actor`,
// audited; `source` names the file in errors. The console's upload; CommandRefImport's core.
Status ImportReference(Hub& hub, const std::string& collection, replica::RecordFormat format,
                       std::string_view text, const std::string& actor, const std::string& source,
                       replica::ImportStats* stats, replica::ImportErrors* errors);
Status CommandPut(const std::string& dir, const std::string& collection, const std::string& id,
                  const std::string& json);
// Erases the record and those referencing it here, registers and audits the erasure, and
// delivers the erasure orders to the owning site.
Status CommandErase(const std::string& dir, const std::string& collection, const std::string& id,
                    const std::string& reason);
Status CommandDelete(const std::string& dir, const std::string& collection, const std::string& id,
                     bool cascade);
Status CommandGet(const std::string& dir, const std::string& collection, const std::string& id);
Status CommandExport(const std::string& dir, const std::string& site, const std::string& collection,
                     bool include_personal, const std::string& format);
Status CommandStatus(const std::string& dir, bool as_json);
// Prints the metrics the store knows in the Prometheus text format.
Status CommandMetrics(const std::string& dir);

}  // namespace osrc::hub
