// NodeCli: drives one osrc-node data folder through the real binary, for
// process tests (tests/node, tests/integration). Header-only; needs
// nlohmann_json, which osrc_process_tests links.
//
// Every call runs `osrc-node COMMAND --data DIR ARGS...` and returns the
// RunResult; Status() parses `status --json` and throws std::runtime_error
// (with the command, exit and output) if that fails, so a broken store fails
// the test with a readable message.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/process.h"

namespace osrc::testing {

class NodeCli {
 public:
  explicit NodeCli(std::string dir, std::string binary = BinPath("osrc-node"))
      : dir_(std::move(dir)), binary_(std::move(binary)) {}

  const std::string& dir() const { return dir_; }

  // {binary, command, "--data", dir, args...}
  std::vector<std::string> Args(std::string_view command,
                                std::vector<std::string> args = {}) const {
    std::vector<std::string> all = {binary_, std::string(command), "--data", dir_};
    for (auto& arg : args) all.push_back(std::move(arg));
    return all;
  }

  RunResult Run(std::string_view command, std::vector<std::string> args = {},
                std::string stdin_data = {}) const {
    return RunProcess(Args(command, std::move(args)), std::move(stdin_data));
  }
  RunResult RunWithOptions(std::string_view command, std::vector<std::string> args,
                           ProcessOptions options) const {
    return RunWith(Args(command, std::move(args)), std::move(options));
  }

  RunResult Init(std::string_view site, std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"--site", std::string(site)};
    for (auto& arg : extra) args.push_back(std::move(arg));
    return Run("init", std::move(args));
  }
  RunResult Put(std::string_view collection, std::string_view id, std::string_view json) const {
    return Run("put", {std::string(collection), std::string(id), "--json", std::string(json)});
  }
  RunResult Get(std::string_view collection, std::string_view id) const {
    return Run("get", {std::string(collection), std::string(id)});
  }
  RunResult Delete(std::string_view collection, std::string_view id) const {
    return Run("delete", {std::string(collection), std::string(id)});
  }
  // Imports a JSON Lines file.
  RunResult Import(std::string_view file) const { return Run("import", {std::string(file)}); }
  // Imports JSON Lines given on stdin ("import -").
  RunResult ImportText(std::string jsonl) const { return Run("import", {"-"}, std::move(jsonl)); }
  // All records, or one collection's ("" = all).
  RunResult Export(std::string_view collection = {}) const {
    // Every field: the tests compare whole records.
    if (collection.empty()) return Run("export", {"--include-personal"});
    return Run("export", {"--collection", std::string(collection), "--include-personal"});
  }

  // `status --json`, parsed.
  nlohmann::json Status() const {
    RunResult r = Run("status", {"--json"});
    if (r.exit_code != 0) throw std::runtime_error("status failed\n" + r.Describe());
    nlohmann::json status = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    if (status.is_discarded() || !status.is_object()) {
      throw std::runtime_error("status --json is not a JSON object\n" + r.Describe());
    }
    return status;
  }
  uint64_t LogHead() const { return Status().at("log_head").get<uint64_t>(); }
  // The number of live records of `collection` (0 if status lists none).
  static uint64_t Count(const nlohmann::json& status, std::string_view collection) {
    const nlohmann::json& records = status.at("records");
    auto it = records.find(std::string(collection));
    return it == records.end() ? 0 : it->get<uint64_t>();
  }
  uint64_t Count(std::string_view collection) const { return Count(Status(), collection); }

 private:
  std::string dir_;
  std::string binary_;
};

// Runs osrc-gen with `args` (e.g. {"--site", "MAS", "--participants", "10"}).
inline RunResult RunGen(std::vector<std::string> args) {
  args.insert(args.begin(), BinPath("osrc-gen"));
  return RunProcess(std::move(args));
}

}  // namespace osrc::testing
