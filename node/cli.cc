#include "node/cli.h"

#include <CLI/CLI.hpp>

#include "node/commands.h"
#include "replica/record_cli.h"

namespace osrc::node {

int RunCli(int argc, char** argv) {
  CLI::App app{"osrc-node: an OSRC site node (offline store, sync with the hub)", "osrc-node"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  replica::RecordCli cli(app);

  InitOptions init;
  auto* init_cmd = cli.AddCommand(app, "init", "Create a site data folder, keys and store");
  init_cmd->add_option("--site", init.site, "Site code, e.g. MAS")->required();
  init_cmd->add_option("--hub", init.hub_endpoint, "Hub endpoint, e.g. tcp://127.0.0.1:7400");
  init_cmd->add_option("--hub-key", init.hub_key, "Hub public key (Z85)");

  auto* put_cmd = cli.AddPut("Set fields of a record (null unsets)");
  auto* delete_cmd = cli.AddDelete();
  auto* get_cmd = cli.AddGet();

  std::string file;
  auto* import_cmd = cli.AddCommand(app, "import", "Import JSON Lines records (all or nothing)");
  import_cmd->add_option("file", file, "JSON Lines file, - for stdin")->required();

  auto* export_cmd = cli.AddExport(/*by_site=*/false);
  auto* status_cmd = cli.AddStatus("Show the node's state");

  SyncOptions sync;
  auto* sync_cmd = cli.AddCommand(app, "sync", "One session with the hub: push, pull, exit");
  sync_cmd->add_option("--timeout", sync.timeout_seconds, "Give up after SECONDS (default 60)");

  auto* run_cmd = cli.AddCommand(app, "run", "Run the sync daemon until SIGINT/SIGTERM");

  BundleOptions bundle;
  auto* bundle_cmd = app.add_subcommand("bundle", "USB bundles for sites without a link");
  bundle_cmd->require_subcommand(1);
  auto* bundle_export = cli.AddCommand(*bundle_cmd, "export", "Seal unacknowledged changes");
  bundle_export->add_option("file", bundle.file, "Bundle file to write")->required();
  auto* bundle_import = cli.AddCommand(*bundle_cmd, "import", "Apply a hub reply bundle");
  bundle_import->add_option("file", bundle.file, "Reply bundle from the hub")->required();

  return cli.Run(argc, argv, [&](const std::string& dir) -> Status {
    const replica::RecordArgs& args = cli.args();
    if (*init_cmd) {
      init.dir = dir;
      return CommandInit(init);
    }
    if (*put_cmd) return CommandPut(dir, args.collection, args.id, args.json);
    if (*delete_cmd) return CommandDelete(dir, args.collection, args.id, args.cascade);
    if (*get_cmd) return CommandGet(dir, args.collection, args.id);
    if (*import_cmd) return CommandImport(dir, file);
    if (*export_cmd) return CommandExport(dir, args.collection);
    if (*status_cmd) return CommandStatus(dir, args.as_json);
    if (*sync_cmd) return CommandSync(dir, sync);
    if (*run_cmd) return CommandRun(dir);
    if (*bundle_export) return CommandBundleExport(dir, bundle);
    if (*bundle_import) return CommandBundleImport(dir, bundle);
    return {};
  });
}

}  // namespace osrc::node
