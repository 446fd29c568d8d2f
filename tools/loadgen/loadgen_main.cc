// osrc-loadgen: many simulated sites against one hub, to see how it holds up.
//   osrc-loadgen keys --sites N --out FILE     site,public_key,secret_key lines (enrol with
//                                              `osrc-hub enrol --file FILE`)
//   osrc-loadgen run --keys FILE --hub EP --hub-key KEY --changes-per-site M --rate R
// `run` prints progress on stderr and, as its last line on stdout, a JSON object of what it saw.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "base/heap.h"
#include "base/version.h"
#include "protocol/curve_keys.h"
#include "tools/loadgen/load_run.h"

namespace osrc::loadgen {
namespace {

// The keys hold secret keys: the file is the owner's only.
Status WriteKeys(const std::string& path, size_t sites, const std::string& prefix) {
  std::string text;
  for (size_t i = 1; i <= sites; ++i) {
    char code[16];
    std::snprintf(code, sizeof code, "%s%04zu", prefix.c_str(), i);
    protocol::KeyPair keys = protocol::GenerateKeyPair();
    text += std::string(code) + "," + keys.public_key + "," + keys.secret_key + "\n";
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return {ErrorCode::kIo, "cannot create the keys file", path};
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  bool closed = ::close(fd) == 0;
  if (!written || !closed) return {ErrorCode::kIo, "cannot write the keys file", path};
  return {};
}

int Main(int argc, char** argv) {
  CLI::App app{"osrc-loadgen: simulated sites against one osrc-hub"};
  app.set_version_flag("--version", VersionLine("osrc-loadgen"));
  app.require_subcommand(1);
  size_t sites = 0;
  std::string out, prefix = "L", keys_path;
  auto* keys_cmd = app.add_subcommand("keys", "write site,public_key,secret_key lines");
  keys_cmd->add_option("--sites", sites, "how many sites")->required()->check(CLI::Range(1, 9999));
  keys_cmd->add_option("--out", out, "file to write (mode 0600)")->required();
  keys_cmd->add_option("--prefix", prefix, "site code prefix (codes PREFIX0001..)")
      ->check([](const std::string& p) {
        return p.size() >= 1 && p.size() <= 4 &&
                       p.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos
                   ? std::string()
                   : std::string("1 to 4 capital letters");
      });
  RunOptions options;
  auto* run_cmd = app.add_subcommand("run", "simulate the sites of a keys file");
  run_cmd->add_option("--keys", keys_path, "keys file from `osrc-loadgen keys`")->required();
  run_cmd->add_option("--hub", options.hub_endpoint, "hub endpoint, tcp://HOST:PORT")->required();
  run_cmd->add_option("--hub-key", options.hub_key, "hub public key (Z85)")->required();
  run_cmd->add_option("--changes-per-site", options.changes_per_site, "changes each site writes")
      ->capture_default_str();
  run_cmd->add_option("--rate", options.rate, "changes per second per site")->capture_default_str();
  run_cmd->add_option("--until-cursor", options.until_cursor,
                      "also wait until every site has applied the hub's log up to this sequence");
  run_cmd->add_option("--timeout", options.timeout_seconds, "give up after this many seconds")
      ->capture_default_str();
  run_cmd
      ->add_option("--connect-over", options.connect_over_seconds,
                   "start the sites' first connections evenly over this many seconds, as a "
                   "fleet comes back over its reconnect backoff (0: all at once)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  run_cmd->add_option("--io-threads", options.io_threads, "ZeroMQ I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 16));
  run_cmd->add_option("--threads", options.threads, "poll loops, each driving a share of the sites")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // bad usage: 2, as the other programs
  }

  Status status;
  if (*keys_cmd) {
    status = WriteKeys(out, sites, prefix);
  } else {
    std::vector<SiteKeys> keys;
    status = ReadKeys(keys_path, &keys);
    RunResult result;
    if (status.ok()) {
      std::cerr << "osrc-loadgen: " << keys.size() << " sites, " << options.changes_per_site
                << " changes each at " << options.rate << "/s\n";
      status = Run(keys, options, &result);
    }
    if (status.ok()) {
      for (size_t i = 0; i < result.failures.size() && i < 10; ++i) {
        std::cerr << "osrc-loadgen: " << result.failures[i] << "\n";
      }
      std::cout << ResultJson(result) << std::endl;
      if (result.timed_out) {
        status = {ErrorCode::kTimeout, "not every change was acknowledged in time", "--timeout"};
      }
    }
  }
  if (!status.ok()) {
    std::cerr << "osrc-loadgen: " << status.ToString() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace osrc::loadgen

int main(int argc, char** argv) {
  try {
    osrc::SetUpHeap();
    return osrc::loadgen::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "osrc-loadgen: " << e.what() << "\n";
    return 1;
  }
}
