#include "replica/record_cli.h"

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "replica/data_folder.h"

namespace osrc::replica {
namespace {

void AddRecordKey(CLI::App* command, RecordArgs& args) {
  command->add_option("collection", args.collection, "Collection")->required();
  command->add_option("id", args.id, "Record id")->required();
}

}  // namespace

Status FaultStatus(const Error& fault, std::string where) {
  std::string what = fault.what();
  std::string_view kind = ErrorCodeName(fault.code());
  if (!what.starts_with(kind)) what = std::string(kind) + ": " + what;
  return {fault.code(), what, std::move(where)};
}

CLI::App* RecordCli::AddCommand(CLI::App& parent, const std::string& name,
                                const std::string& description) {
  CLI::App* command = parent.add_subcommand(name, description);
  command->add_option("--data", data_flag_, "Data folder (default: $OSRC_DATA)");
  return command;
}

CLI::App* RecordCli::AddPut(const std::string& description) {
  CLI::App* command = AddCommand(app_, "put", description);
  AddRecordKey(command, args_);
  command->add_option("--json", args_.json, "Fields as a JSON object")->required();
  return command;
}

CLI::App* RecordCli::AddDelete() {
  CLI::App* command = AddCommand(app_, "delete", "Delete a record");
  AddRecordKey(command, args_);
  command->add_flag("--cascade", args_.cascade,
                    "Also delete the records that reference it (a participant's services, "
                    "referrals and attendance)");
  return command;
}

CLI::App* RecordCli::AddGet() {
  CLI::App* command = AddCommand(app_, "get", "Print a record as JSON");
  AddRecordKey(command, args_);
  return command;
}

CLI::App* RecordCli::AddExport(bool by_site) {
  CLI::App* command = AddCommand(app_, "export", "Export records as sorted JSON Lines");
  if (by_site) command->add_option("--site", args_.site, "Only this site's records");
  command->add_option("--collection", args_.collection, "Only this collection");
  return command;
}

CLI::App* RecordCli::AddStatus(const std::string& description) {
  CLI::App* command = AddCommand(app_, "status", description);
  command->add_flag("--json", args_.as_json, "As JSON");
  return command;
}

int RecordCli::Run(int argc, char** argv,
                   const std::function<Status(const std::string& dir)>& run) {
  try {
    app_.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app_.exit(e) == 0 ? 0 : 2;
  }
  std::string dir;
  if (Status s = ResolveDataDir(data_flag_, &dir); !s.ok()) return Fail(s);
  try {
    Status status = run(dir);
    return status.ok() ? 0 : Fail(status);
  } catch (const Error& e) {
    return Fail(FaultStatus(e));
  } catch (const std::exception& e) {
    // A library's exception (filesystem, ZeroMQ, allocation): still one line, exit 1.
    return Fail(Status(ErrorCode::kInternal, e.what()));
  }
}

int RecordCli::Fail(const Status& status) const {
  std::cerr << app_.get_name() << ": " << status.ToString() << "\n";
  return 1;
}

}  // namespace osrc::replica
