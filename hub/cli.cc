#include "hub/cli.h"

#include <CLI/CLI.hpp>

#include <iostream>

#include "hub/commands.h"
#include "replica/data_folder.h"

namespace osrc::hub {
namespace {

int Fail(const Status& status) {
  std::cerr << "osrc-hub: " << status.ToString() << "\n";
  return 1;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"osrc-hub: the OSRC central hub (merges site changes, serves reference data)",
               "osrc-hub"};
  app.require_subcommand(1);
  std::string data_flag;
  auto add_data = [&](CLI::App* command) {
    command->add_option("--data", data_flag, "Data folder (default: $OSRC_DATA)");
  };

  InitOptions init;
  auto* init_cmd = app.add_subcommand("init", "Create a hub data folder, keys, store and epoch");
  add_data(init_cmd);
  init_cmd->add_option("--bind", init.bind, "Endpoint to listen on (default tcp://127.0.0.1:7400)");
  init_cmd->add_option("--hub-id", init.hub_id, "Hub id (default MNL)");

  std::string site, key, name, collection, id, json, file;
  auto* enrol_cmd = app.add_subcommand("enrol", "Admit a site's public key");
  add_data(enrol_cmd);
  enrol_cmd->add_option("--site", site, "Site code")->required();
  enrol_cmd->add_option("--key", key, "The site's public key (Z85)")->required();
  enrol_cmd->add_option("--name", name, "Name of the site");

  auto* revoke_cmd = app.add_subcommand("revoke", "Refuse a site from now on");
  add_data(revoke_cmd);
  revoke_cmd->add_option("--site", site, "Site code")->required();

  auto* run_cmd = app.add_subcommand("run", "Run the hub daemon until SIGINT/SIGTERM");
  add_data(run_cmd);

  std::string folder;
  auto* backup_cmd = app.add_subcommand("backup", "Copy the store consistently, even while running");
  add_data(backup_cmd);
  backup_cmd->add_option("--to", folder, "Backup folder (new or empty)")->required();
  auto* restore_cmd = app.add_subcommand("restore", "Restore a backup under a new epoch");
  add_data(restore_cmd);
  restore_cmd->add_option("--from", folder, "Backup folder")->required();

  std::string reply;
  auto* bundle_cmd = app.add_subcommand("bundle", "USB bundles from sites without a link");
  bundle_cmd->require_subcommand(1);
  auto* bundle_import = bundle_cmd->add_subcommand("import", "Apply a site's bundle, write a reply");
  add_data(bundle_import);
  bundle_import->add_option("file", file, "Bundle from a site")->required();
  bundle_import->add_option("--reply", reply, "Reply bundle to carry back")->required();

  auto* ref_cmd = app.add_subcommand("ref", "Reference data");
  ref_cmd->require_subcommand(1);
  auto* ref_import = ref_cmd->add_subcommand("import", "Import JSON Lines into a reference collection");
  add_data(ref_import);
  ref_import->add_option("collection", collection, "Reference collection")->required();
  ref_import->add_option("file", file, "JSON Lines file, - for stdin")->required();

  auto* put_cmd = app.add_subcommand("put", "Set fields of a record (a central correction)");
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

  auto* export_cmd = app.add_subcommand("export", "Export records as sorted JSON Lines");
  add_data(export_cmd);
  export_cmd->add_option("--site", site, "Only this site's records");
  export_cmd->add_option("--collection", collection, "Only this collection");

  bool as_json = false;
  auto* status_cmd = app.add_subcommand("status", "Show the hub and every site");
  add_data(status_cmd);
  status_cmd->add_flag("--json", as_json, "As JSON");

  auto* conflicts_cmd = app.add_subcommand("conflicts", "List conflicts kept for review");
  add_data(conflicts_cmd);
  conflicts_cmd->add_flag("--json", as_json, "As JSON Lines");

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
    } else if (*enrol_cmd) {
      status = CommandEnrol(dir, site, key, name);
    } else if (*revoke_cmd) {
      status = CommandRevoke(dir, site);
    } else if (*run_cmd) {
      status = CommandRun(dir);
    } else if (*backup_cmd) {
      status = CommandBackup(dir, folder);
    } else if (*restore_cmd) {
      status = CommandRestore(dir, folder);
    } else if (*bundle_import) {
      status = CommandBundleImport(dir, file, reply);
    } else if (*ref_import) {
      status = CommandRefImport(dir, collection, file);
    } else if (*put_cmd) {
      status = CommandPut(dir, collection, id, json);
    } else if (*delete_cmd) {
      status = CommandDelete(dir, collection, id);
    } else if (*get_cmd) {
      status = CommandGet(dir, collection, id);
    } else if (*export_cmd) {
      status = CommandExport(dir, site, collection);
    } else if (*status_cmd) {
      status = CommandStatus(dir, as_json);
    } else if (*conflicts_cmd) {
      status = CommandConflicts(dir, as_json);
    }
    return status.ok() ? 0 : Fail(status);
  } catch (const Error& e) {
    return Fail(Status(e.code(), e.what()));
  }
}

}  // namespace osrc::hub
