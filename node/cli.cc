#include "node/cli.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

#include "node/commands.h"
#include "replica/data_folder.h"

namespace osrc::node {
namespace {

int Fail(const Status& status) {
  std::cerr << "osrc-node: " << status.ToString() << "\n";
  return 1;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"osrc-node: an OSRC site node (offline store, sync with the hub)", "osrc-node"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  std::string data_flag;
  auto add_data = [&](CLI::App* command) {
    command->add_option("--data", data_flag, "Data folder (default: $OSRC_DATA)");
  };

  InitOptions init;
  auto* init_cmd = app.add_subcommand("init", "Create a site data folder, keys and store");
  add_data(init_cmd);
  init_cmd->add_option("--site", init.site, "Site code, e.g. MAS")->required();
  init_cmd->add_option("--hub", init.hub_endpoint, "Hub endpoint, e.g. tcp://127.0.0.1:7400");
  init_cmd->add_option("--hub-key", init.hub_key, "Hub public key (Z85)");

  std::string collection, id, json, file;
  auto* put_cmd = app.add_subcommand("put", "Set fields of a record (null unsets)");
  add_data(put_cmd);
  put_cmd->add_option("collection", collection, "Collection")->required();
  put_cmd->add_option("id", id, "Record id")->required();
  put_cmd->add_option("--json", json, "Fields as a JSON object")->required();

  auto* delete_cmd = app.add_subcommand("delete", "Delete a record");
  add_data(delete_cmd);
  delete_cmd->add_option("collection", collection, "Collection")->required();
  delete_cmd->add_option("id", id, "Record id")->required();

  auto* get_cmd = app.add_subcommand("get", "Print a record as JSON");
  add_data(get_cmd);
  get_cmd->add_option("collection", collection, "Collection")->required();
  get_cmd->add_option("id", id, "Record id")->required();

  auto* import_cmd = app.add_subcommand("import", "Import JSON Lines records (all or nothing)");
  add_data(import_cmd);
  import_cmd->add_option("file", file, "JSON Lines file, - for stdin")->required();

  auto* export_cmd = app.add_subcommand("export", "Export records as sorted JSON Lines");
  add_data(export_cmd);
  export_cmd->add_option("--collection", collection, "Only this collection");

  bool as_json = false;
  auto* status_cmd = app.add_subcommand("status", "Show the node's state");
  add_data(status_cmd);
  status_cmd->add_flag("--json", as_json, "As JSON");

  SyncOptions sync;
  auto* sync_cmd = app.add_subcommand("sync", "One session with the hub: push, pull, exit");
  add_data(sync_cmd);
  sync_cmd->add_option("--timeout", sync.timeout_seconds, "Give up after SECONDS (default 60)");

  auto* run_cmd = app.add_subcommand("run", "Run the sync daemon until SIGINT/SIGTERM");
  add_data(run_cmd);

  BundleOptions bundle;
  auto* bundle_cmd = app.add_subcommand("bundle", "USB bundles for sites without a link");
  bundle_cmd->require_subcommand(1);
  auto* bundle_export = bundle_cmd->add_subcommand("export", "Seal unacknowledged changes");
  add_data(bundle_export);
  bundle_export->add_option("file", bundle.file, "Bundle file to write")->required();
  auto* bundle_import = bundle_cmd->add_subcommand("import", "Apply a hub reply bundle");
  add_data(bundle_import);
  bundle_import->add_option("file", bundle.file, "Reply bundle from the hub")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  std::string dir;
  if (Status s = replica::ResolveDataDir(data_flag, &dir); !s.ok()) return Fail(s);
  try {
    Status status;
    if (*init_cmd) {
      init.dir = dir;
      status = CommandInit(init);
    } else if (*put_cmd) {
      status = CommandPut(dir, collection, id, json);
    } else if (*delete_cmd) {
      status = CommandDelete(dir, collection, id);
    } else if (*get_cmd) {
      status = CommandGet(dir, collection, id);
    } else if (*import_cmd) {
      status = CommandImport(dir, file);
    } else if (*export_cmd) {
      status = CommandExport(dir, collection);
    } else if (*status_cmd) {
      status = CommandStatus(dir, as_json);
    } else if (*sync_cmd) {
      status = CommandSync(dir, sync);
    } else if (*run_cmd) {
      status = CommandRun(dir);
    } else if (*bundle_export) {
      status = CommandBundleExport(dir, bundle);
    } else if (*bundle_import) {
      status = CommandBundleImport(dir, bundle);
    }
    return status.ok() ? 0 : Fail(status);
  } catch (const Error& e) {
    return Fail(Status(e.code(), e.what()));
  }
}

}  // namespace osrc::node
