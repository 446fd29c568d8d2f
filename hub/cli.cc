#include "hub/cli.h"

#include <CLI/CLI.hpp>

#include "base/version.h"
#include "hub/audit_command.h"
#include "hub/commands.h"
#include "hub/conflicts_command.h"
#include "hub/mirror.h"
#include "hub/operator_command.h"
#include "hub/report_command.h"
#include "hub/retention_command.h"
#include "replica/record_cli.h"

namespace osrc::hub {

int RunCli(int argc, char** argv) {
  CLI::App app{"osrc-hub: the OSRC central hub (merges site changes, serves reference data)",
               "osrc-hub"};
  app.require_subcommand(1);
  app.set_version_flag("--version", VersionLine("osrc-hub"));
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  replica::RecordCli cli(app);

  InitOptions init;
  auto* init_cmd = cli.AddCommand(app, "init", "Create a hub data folder, keys, store and epoch");
  init_cmd->add_option("--bind", init.bind, "Endpoint to listen on (default tcp://127.0.0.1:7400)");
  init_cmd->add_option("--hub-id", init.hub_id, "Hub id (default MNL)");

  std::string site;
  EnrolOptions enrol;
  auto* enrol_cmd = cli.AddCommand(app, "enrol", "Admit a site's public key, or a file of them");
  enrol_cmd->add_option("--site", enrol.site, "Site code");
  enrol_cmd->add_option("--key", enrol.key, "The site's public key (Z85)");
  enrol_cmd->add_option("--name", enrol.name, "Name of the site");
  enrol_cmd->add_option("--file", enrol.file,
                        "site,public_key lines: every site in one transaction");
  enrol_cmd->add_flag("--replace", enrol.replace,
                      "Replace the key of a site enrolled with another (ends its sessions)");

  auto* revoke_cmd = cli.AddCommand(app, "revoke", "Refuse a site from now on");
  revoke_cmd->add_option("--site", site, "Site code")->required();

  auto* run_cmd = cli.AddCommand(app, "run", "Run the hub daemon until SIGINT/SIGTERM");
  std::string console;
  run_cmd->add_option("--console", console,
                      "The web console's HOST:PORT (port 0: any free one), or off; "
                      "overrides [console] bind");

  std::string folder;
  auto* backup_cmd =
      cli.AddCommand(app, "backup", "Copy the store consistently, even while running");
  backup_cmd->add_option("--to", folder, "Backup folder (new or empty)")->required();
  auto* restore_cmd = cli.AddCommand(app, "restore", "Restore a backup under a new epoch");
  restore_cmd->add_option("--from", folder, "Backup folder")->required();

  std::string file, reply;
  auto* bundle_cmd = app.add_subcommand("bundle", "USB bundles from sites without a link");
  bundle_cmd->require_subcommand(1);
  auto* bundle_import =
      cli.AddCommand(*bundle_cmd, "import", "Apply a site's bundle, write a reply");
  bundle_import->add_option("file", file, "Bundle from a site")->required();
  bundle_import->add_option("--reply", reply, "Reply bundle to carry back")->required();

  replica::ImportArgs ref;
  auto* ref_cmd = app.add_subcommand("ref", "Reference data");
  ref_cmd->require_subcommand(1);
  auto* ref_import =
      cli.AddCommand(*ref_cmd, "import", "Import JSON Lines or CSV into a reference collection");
  ref_import->add_option("collection", ref.collection, "Reference collection")->required();
  replica::AddImportOptions(ref_import, ref, /*with_collection=*/false);

  auto* put_cmd = cli.AddPut("Set fields of a record (a central correction)");
  auto* delete_cmd = cli.AddDelete();
  auto* erase_cmd = cli.AddErase();
  auto* get_cmd = cli.AddGet();
  auto* export_cmd = cli.AddExport(/*by_site=*/true);
  auto* status_cmd = cli.AddStatus("Show the hub and every site");

  bool conflicts_as_json = false;
  auto* conflicts_cmd = cli.AddCommand(app, "conflicts", "List conflicts kept for review");
  conflicts_cmd->add_flag("--json", conflicts_as_json, "As JSON Lines");
  ConflictsListOptions conflicts_list;
  auto add_list_options = [&](CLI::App* cmd) {
    cmd->add_option("--site", conflicts_list.filter.site, "Only records of this site");
    cmd->add_option("--collection", conflicts_list.filter.collection, "Only this collection");
    cmd->add_option("--field", conflicts_list.filter.field, "Only this field");
    cmd->add_flag("--show-personal", conflicts_list.show_personal,
                  "Show personal values (audited)");
  };
  add_list_options(conflicts_cmd);
  conflicts_cmd->require_subcommand(0, 1);
  auto* conflicts_list_cmd =
      cli.AddCommand(*conflicts_cmd, "list", "List open conflicts, each with its id");
  conflicts_list_cmd->add_flag("--json", conflicts_as_json, "As JSON Lines");
  add_list_options(conflicts_list_cmd);
  ResolveOptions resolve;
  auto* conflicts_resolve_cmd = cli.AddCommand(
      *conflicts_cmd, "resolve", "Dismiss a conflict, or correct the field (sent to the site)");
  conflicts_resolve_cmd->add_option("id", resolve.id, "Conflict id (from conflicts list)")
      ->required();
  conflicts_resolve_cmd->add_option("--keep", resolve.keep, "winner (dismiss) or loser");
  conflicts_resolve_cmd->add_option("--value", resolve.value, "A JSON value for the field");

  std::string operator_name, operator_role;
  auto* operator_cmd = app.add_subcommand("operator", "Who may log in to the console");
  operator_cmd->require_subcommand(1);
  auto* operator_add = cli.AddCommand(
      *operator_cmd, "add", "Add an operator (password from the terminal or standard input)");
  operator_add->add_option("name", operator_name, "Operator name")->required();
  operator_add->add_option("--role", operator_role, "viewer or admin")->required();
  auto* operator_remove = cli.AddCommand(*operator_cmd, "remove", "Remove an operator");
  operator_remove->add_option("name", operator_name, "Operator name")->required();
  auto* operator_list = cli.AddCommand(*operator_cmd, "list", "List operators and roles");

  auto* metrics_cmd =
      cli.AddCommand(app, "metrics", "Print the store's metrics in the Prometheus text format");

  ReportOptions report;
  auto* report_cmd = cli.AddCommand(
      app, "report", "Counts for publication (participants, services, referrals, trainings)");
  report_cmd->add_option("name", report.request.name, "Report name")->required();
  report_cmd->add_option("--by", report.by, "Dimensions, comma-separated (e.g. site,sex)");
  report_cmd->add_option("--from", report.request.from, "First day counted (YYYY-MM-DD)");
  report_cmd->add_option("--to", report.request.to, "Last day counted (default: today)");
  report_cmd->add_option("--site", report.request.site, "Only this site");
  report_cmd->add_option("--format", report.format, "table (default), csv or json");
  report_cmd->add_option("--k", report.k,
                         "Suppress counts below K (default: hub.toml [report] k; 1: none, "
                         "not for publication)");

  std::string audit_since;
  bool audit_as_json = false;
  auto* audit_cmd =
      cli.AddCommand(app, "audit", "List the audit trail (who exported, reported, changed what)");
  audit_cmd->add_option("--since", audit_since, "From this day (YYYY-MM-DD)");
  audit_cmd->add_flag("--json", audit_as_json, "As JSON Lines");
  audit_cmd->require_subcommand(0, 1);
  auto* audit_verify = cli.AddCommand(*audit_cmd, "verify", "Check the audit trail's hash chain");

  RetentionOptions retention;
  auto* retention_cmd = cli.AddCommand(
      app, "retention", "List or erase the site records hub.toml's [retention] no longer keeps");
  auto* retention_mode = retention_cmd->add_option_group("mode");
  retention_mode->add_flag("--dry-run", retention.dry_run, "List what would be erased");
  retention_mode->add_flag("--apply", retention.apply, "Erase it (erasure orders to the sites)");
  retention_mode->require_option(1);
  retention_cmd->add_option("--as-of", retention.as_of, "The day to count back from (YYYY-MM-DD)");
  retention_cmd->add_flag("--json", retention.as_json, "As JSON Lines");

  MirrorOptions mirror;
  auto* mirror_cmd =
      cli.AddCommand(app, "mirror", "Keep a PostgreSQL database in step with the hub");
  mirror_cmd->add_option("--postgres", mirror.conninfo, "libpq connection string")->required();
  mirror_cmd->add_flag("--once", mirror.once, "Copy up to the latest change, then exit");
  mirror_cmd->add_option("--batch", mirror.batch, "Records per transaction (default 5000)");

  return cli.Run(argc, argv, [&](const std::string& dir) -> Status {
    const replica::RecordArgs& args = cli.args();
    if (*init_cmd) {
      init.dir = dir;
      return CommandInit(init);
    }
    if (*enrol_cmd) return CommandEnrol(dir, enrol);
    if (*revoke_cmd) return CommandRevoke(dir, site);
    if (*run_cmd) return CommandRun(dir, console);
    if (*backup_cmd) return CommandBackup(dir, folder);
    if (*restore_cmd) return CommandRestore(dir, folder);
    if (*bundle_import) return CommandBundleImport(dir, file, reply);
    if (*ref_import) return CommandRefImport(dir, ref);
    if (*put_cmd) return CommandPut(dir, args.collection, args.id, args.json);
    if (*delete_cmd) return CommandDelete(dir, args.collection, args.id, args.cascade);
    if (*erase_cmd) return CommandErase(dir, args.collection, args.id, args.reason);
    if (*get_cmd) return CommandGet(dir, args.collection, args.id);
    if (*export_cmd)
      return CommandExport(dir, args.site, args.collection, args.include_personal, args.format);
    if (*status_cmd) return CommandStatus(dir, args.as_json);
    if (*conflicts_resolve_cmd) return CommandConflictsResolve(dir, resolve);
    if (*conflicts_cmd) {
      conflicts_list.as_json = conflicts_as_json;
      return CommandConflictsList(dir, conflicts_list);
    }
    if (*report_cmd) return CommandReport(dir, report);
    if (*mirror_cmd) return CommandMirror(dir, mirror);
    if (*retention_cmd) return CommandRetention(dir, retention);
    if (*metrics_cmd) return CommandMetrics(dir);
    if (*operator_add) return CommandOperatorAdd(dir, operator_name, operator_role);
    if (*operator_remove) return CommandOperatorRemove(dir, operator_name);
    if (*operator_list) return CommandOperatorList(dir);
    if (*audit_verify) return CommandAuditVerify(dir);
    if (*audit_cmd) return CommandAudit(dir, audit_since, audit_as_json);
    return {};
  });
}

}  // namespace osrc::hub
