#include "node/cli.h"

#include <CLI/CLI.hpp>

#include "base/version.h"
#include "node/commands.h"
#include "node/config_commands.h"
#include "replica/record_cli.h"

namespace osrc::node {

int RunCli(int argc, char** argv) {
  CLI::App app{"osrc-node: an OSRC site node (offline store, sync with the hub)", "osrc-node"};
  app.require_subcommand(1);
  app.set_version_flag("--version", VersionLine("osrc-node"));
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  replica::RecordCli cli(app);

  InitOptions init;
  auto* init_cmd = cli.AddCommand(app, "init", "Create a site data folder, keys and store");
  init_cmd->add_option("--site", init.site, "Site code, e.g. MAS")->required();
  init_cmd->add_option("--hub", init.hub_endpoint, "Hub endpoint, e.g. tcp://127.0.0.1:7400");
  init_cmd->add_option("--hub-key", init.hub_key, "Hub public key (Z85)");

  auto* put_cmd = cli.AddPut("Set fields of a record (null unsets)");
  auto* delete_cmd = cli.AddDelete();
  auto* erase_cmd = cli.AddErase();
  auto* get_cmd = cli.AddGet();

  replica::ImportArgs import;
  auto* import_cmd =
      cli.AddCommand(app, "import", "Import JSON Lines or CSV records (all or nothing)");
  replica::AddImportOptions(import_cmd, import, /*with_collection=*/true);

  auto* export_cmd = cli.AddExport(/*by_site=*/false);
  auto* status_cmd = cli.AddStatus("Show the node's state");
  bool conflicts_as_json = false;
  auto* conflicts_cmd =
      cli.AddCommand(app, "conflicts", "List conflicts kept on this site's own records");
  conflicts_cmd->add_flag("--json", conflicts_as_json, "As JSON Lines");

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

  auto* config_cmd = app.add_subcommand("config", "Show or change node.toml");
  config_cmd->require_subcommand(1);
  auto* config_show = cli.AddCommand(*config_cmd, "show", "Print the configuration in force");
  std::string hub_endpoint, hub_key;
  auto* config_set_hub =
      cli.AddCommand(*config_cmd, "set-hub", "Point the node at a hub (checked, atomic)");
  config_set_hub->add_option("--hub", hub_endpoint, "Hub endpoint, e.g. tcp://10.0.0.1:7400")
      ->required();
  config_set_hub->add_option("--hub-key", hub_key, "Hub public key (Z85)")->required();
  auto* key_cmd = cli.AddCommand(app, "key", "Print the site's public key (to enrol it)");

  return cli.Run(argc, argv, [&](const std::string& dir) -> Status {
    const replica::RecordArgs& args = cli.args();
    if (*init_cmd) {
      init.dir = dir;
      return CommandInit(init);
    }
    if (*put_cmd) return CommandPut(dir, args.collection, args.id, args.json);
    if (*erase_cmd) return CommandErase(dir, args.collection, args.id, args.reason);
    if (*delete_cmd) return CommandDelete(dir, args.collection, args.id, args.cascade);
    if (*get_cmd) return CommandGet(dir, args.collection, args.id);
    if (*import_cmd) return CommandImport(dir, import);
    if (*export_cmd) return CommandExport(dir, args.collection, args.include_personal, args.format);
    if (*status_cmd) return CommandStatus(dir, args.as_json);
    if (*conflicts_cmd) return CommandConflicts(dir, conflicts_as_json);
    if (*sync_cmd) return CommandSync(dir, sync);
    if (*run_cmd) return CommandRun(dir);
    if (*bundle_export) return CommandBundleExport(dir, bundle);
    if (*bundle_import) return CommandBundleImport(dir, bundle);
    if (*config_show) return CommandConfigShow(dir);
    if (*config_set_hub) return CommandConfigSetHub(dir, hub_endpoint, hub_key);
    if (*key_cmd) return CommandKey(dir);
    return {};
  });
}

}  // namespace osrc::node
