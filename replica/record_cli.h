// The command line osrc-node and osrc-hub share: `--data`, the record subcommands (put, delete,
// get, export, status) and running the parsed subcommand with README's exit codes. Used from
// main's thread only.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/error.h"
#include "base/progress.h"
#include "replica/records.h"

namespace CLI {
class App;
}

namespace osrc::replica {

// What the record subcommands were given.
struct RecordArgs {
  std::string collection;
  std::string id;
  std::string json;               // put --json
  std::string site;               // export --site
  std::string format;             // export --format
  bool include_personal = false;  // export --include-personal
  bool as_json = false;           // status --json
  bool cascade = false;           // delete --cascade
  std::string reason;             // erase --reason
};

// Import options of a command line: --format, --collection, --allow-empty.
struct ImportArgs {
  std::string file;
  std::string format;
  std::string collection;
  bool allow_empty = false;
};
// Adds `file` and the import options to `command`; `with_collection` adds --collection.
void AddImportOptions(CLI::App* command, ImportArgs& args, bool with_collection);
// Imports `args.file` with progress, prints every bad line on standard error, led by `program`
// ("osrc-node: FILE: line 3, column 4 (sex): ...") and returns the summary line's Status.
Status ImportWithReport(Writer& writer, const ImportArgs& args, std::string_view program,
                        ImportStats* stats);
// Exports `collection` (all when empty; CSV needs one) of ids starting with `id_prefix` in
// `format` ("csv", "jsonl" or empty: JSON Lines) to standard output; personal fields (pii) only
// when `include_personal`.
Status ExportRecords(storage::Store& store, const config::Schema& schema,
                     const std::string& collection, const std::string& id_prefix,
                     const std::string& format, bool include_personal);

// Prints the record as an export line to standard output; kNotFound when absent or deleted, and
// a fault of the store as its Status.
Status PrintRecord(storage::Store& store, const std::string& collection, const std::string& id);

// The Status of a fault caught by a command: its message, led by the kind of fault unless it
// says so already ("corruption: malformed record state in store"), at `where`.
Status FaultStatus(const Error& fault, std::string where = {});

// Declares subcommands on an app whose name ("osrc-node") starts every error line. The app
// outlives this object; options are bound to its members, so it neither copies nor moves.
class RecordCli {
 public:
  explicit RecordCli(CLI::App& app) : app_(app) {}
  RecordCli(const RecordCli&) = delete;
  RecordCli& operator=(const RecordCli&) = delete;

  // A subcommand of `parent` that takes --data.
  CLI::App* AddCommand(CLI::App& parent, const std::string& name, const std::string& description);
  CLI::App* AddPut(const std::string& description);
  CLI::App* AddDelete();
  CLI::App* AddErase();
  CLI::App* AddGet();
  // export [--site] [--collection]; --site only where `by_site`.
  CLI::App* AddExport(bool by_site);
  CLI::App* AddStatus(const std::string& description);

  const RecordArgs& args() const { return args_; }

  // Parses the arguments and calls `run` with the data folder. Returns the exit code: 0 success,
  // 1 failure (one line on stderr), 2 usage error.
  int Run(int argc, char** argv, const std::function<Status(const std::string& dir)>& run);

 private:
  int Fail(const Status& status) const;

  CLI::App& app_;
  std::string data_flag_;
  RecordArgs args_;
};

}  // namespace osrc::replica
