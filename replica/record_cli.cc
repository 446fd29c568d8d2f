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

void AddImportOptions(CLI::App* command, ImportArgs& args, bool with_collection) {
  command->add_option("file", args.file, "JSON Lines or CSV file, - for stdin")->required();
  command->add_option("--format", args.format, "csv or jsonl (default: csv for a .csv file)");
  if (with_collection) {
    command->add_option("--collection", args.collection, "The collection of a CSV file");
  }
  command->add_flag("--allow-empty", args.allow_empty, "Accept a file without records");
}

Status ImportWithReport(Writer& writer, const ImportArgs& args, std::string_view program,
                        ImportStats* stats) {
  ImportOptions options;
  OSRC_RETURN_IF_ERROR(FormatOf(args.format, args.file, &options.format));
  options.collection = args.collection;
  options.allow_empty = args.allow_empty;
  if (options.format == RecordFormat::kCsv && options.collection.empty()) {
    return {ErrorCode::kBadInput, "a CSV file holds one collection: name it with --collection",
            args.file};
  }
  std::unique_ptr<Progress> progress = StderrProgress("import", "records");
  options.progress = progress.get();
  ImportErrors errors;
  Status status = ImportFile(writer, args.file, options, stats, &errors);
  progress->Finish();
  std::string name = args.file == "-" ? "standard input" : args.file;
  for (const ImportError& error : errors.shown) {
    std::cerr << program << ": " << name << ": " << error.ToString() << "\n";
  }
  if (errors.more > 0) {
    std::cerr << program << ": " << name << ": and " << errors.more << " more errors\n";
  }
  return status;
}

Status PrintRecord(storage::Store& store, const std::string& collection, const std::string& id) {
  std::string line;
  try {
    OSRC_RETURN_IF_ERROR(GetJson(store, collection, id, &line));
  } catch (const Error& e) {
    return FaultStatus(e, protocol::RecordName(collection, id));
  }
  std::cout << line << "\n";
  return {};
}

Status ExportRecords(storage::Store& store, const config::Schema& schema,
                     const std::string& collection, const std::string& id_prefix,
                     const std::string& format, bool include_personal) {
  RecordFormat record_format;
  OSRC_RETURN_IF_ERROR(FormatOf(format, "", &record_format));
  const config::CollectionSpec* spec = schema.Find(collection);
  if (!collection.empty() && spec == nullptr) {
    return {ErrorCode::kBadInput, "unknown collection \"" + collection + "\"", "--collection"};
  }
  std::unique_ptr<Progress> progress = StderrProgress("export", "records");
  if (record_format == RecordFormat::kCsv) {
    if (spec == nullptr) {
      return {ErrorCode::kBadInput, "a CSV file holds one collection: name it with --collection",
              "--format csv"};
    }
    ExportCsv(store, include_personal ? *spec : config::WithoutPersonal(*spec), id_prefix,
              std::cout, progress.get());
  } else {
    const config::Schema* personal = include_personal ? nullptr : &schema;
    if (!collection.empty() || id_prefix.empty()) {
      ExportJsonLines(store, collection, id_prefix, std::cout, progress.get(), personal);
    } else {
      // A site's records: its site-owned collections, ids with its prefix.
      for (const auto& [name, each] : schema.collections()) {
        if (each.owner == config::Owner::kSite) {
          ExportJsonLines(store, name, id_prefix, std::cout, progress.get(), personal);
        }
      }
    }
  }
  progress->Finish();
  std::cout.flush();
  if (!std::cout) return {ErrorCode::kIo, "cannot write the export", "stdout"};
  return {};
}

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

CLI::App* RecordCli::AddErase() {
  CLI::App* command = AddCommand(
      app_, "erase",
      "Erase a record and every record referencing it, at every replica: only collection, id "
      "and stamp remain");
  AddRecordKey(command, args_);
  command->add_option("--reason", args_.reason, "Why (kept in the erasure register and audit)")
      ->required();
  return command;
}

CLI::App* RecordCli::AddGet() {
  CLI::App* command = AddCommand(app_, "get", "Print a record as JSON");
  AddRecordKey(command, args_);
  return command;
}

CLI::App* RecordCli::AddExport(bool by_site) {
  CLI::App* command = AddCommand(app_, "export", "Export records as sorted JSON Lines or CSV");
  if (by_site) command->add_option("--site", args_.site, "Only this site's records");
  command->add_option("--collection", args_.collection, "Only this collection (CSV: required)");
  command->add_option("--format", args_.format, "jsonl (default) or csv");
  command->add_flag("--include-personal", args_.include_personal,
                    "Include personal fields (pii in the schema), left out by default");
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
