// osrc-bench-ingest: hub ingest over CURVE on 127.0.0.1. Four site nodes (MAS, ANT, MAG, ADS),
// each holding P participants x 1 service = 2P changes (osrc-gen; default P = 125,000, so 250,000
// changes per site, 1,000,000 in all), run `osrc-node sync` at once into one `osrc-hub run`
// through a counting TCP proxy (tests/support/fault_proxy.h). Measured per repetition: the wall
// time from starting the four syncs until all four exited 0 (the hub is already listening), the
// bytes the proxy forwarded each way, and the CPU of hub, nodes and proxy. With --pre-encoded the
// hub alone is timed: the sites' pushes are read and encoded before the clock starts
// (bench/pre_encoded.h) and sent by this process, from its Hellos to the last acknowledgement.
// Baseline in the same run, after each ingest: the raw LMDB put rate of the same data (the hub's
// record keys and stored record-state values, in the order the nodes pushed them), one durable
// write transaction per push-sized batch (the node's rule: changes up to batch_bytes of raw change
// bytes), batches round-robin over the four sites, in a fresh environment with the hub's store
// options. Reports medians of --reps repetitions.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "bench/bench_util.h"
#include "bench/ingest_setup.h"
#include "bench/pre_encoded.h"
#include "config/data_config.h"
#include "tests/support/fault_proxy.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::bench {
namespace {

// The port in the endpoint the hub daemon wrote when it bound ("tcp://127.0.0.1:PORT").
uint16_t BoundPort(const std::string& endpoint_file) {
  std::ifstream in(endpoint_file);
  std::string endpoint;
  std::getline(in, endpoint);
  size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("no endpoint in " + endpoint_file);
  return static_cast<uint16_t>(std::stoi(endpoint.substr(colon + 1)));
}

struct RepResult {
  Timing ingest;
  Timing baseline;
  double hub_cpu = 0, nodes_cpu = 0, proxy_cpu = 0;
  uint64_t bytes_up = 0, bytes_down = 0;
  size_t commits = 0, pushes = 0;  // from the hub's debug log, with --commit-stats
  double last_commit = 0;          // seconds from the start to the hub's last group commit
};

// Seconds since the epoch of a log line's "[YYYY-MM-DD HH:MM:SS.mmm]" local-time prefix.
double LogLineTime(const std::string& line) {
  std::tm tm{};
  std::istringstream in(line.substr(1, 19));
  in >> std::get_time(&tm, "%Y-%m-%d %H:%M:%S");
  if (in.fail() || line.size() < 24) return 0;
  tm.tm_isdst = -1;
  return static_cast<double>(std::mktime(&tm)) + std::stoi(line.substr(21, 3)) / 1000.0;
}

double EpochSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// User + system CPU seconds of a running process, from /proc.
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  // After "pid (comm) ", field 3 (state) comes first; utime and stime are fields 14 and 15.
  for (int number = 3; number <= 15 && fields >> field; ++number) {
    if (number >= 14) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void CountCommits(const testing::Process& hub, double start_epoch, RepResult* result) {
  for (const std::string& line : hub.Lines(testing::Stream::kStderr)) {
    size_t at = line.find("commit: ");
    if (at == std::string::npos) continue;
    ++result->commits;
    result->pushes += std::stoul(line.substr(at + 8));
    result->last_commit = LogLineTime(line) - start_epoch;
  }
}

void CheckHubStatus(const std::string& bin, const std::string& hub_dir,
                    const IngestFixture& fixture) {
  auto status =
      nlohmann::json::parse(MustRun({bin + "/osrc-hub", "status", "--data", hub_dir, "--json"}));
  for (const SiteData& site : fixture.sites()) {
    bool found = false;
    for (const auto& entry : status["sites"]) {
      if (entry["site"] != site.code) continue;
      found = entry["acked"].get<uint64_t>() == site.changes &&
              entry["records"].get<uint64_t>() == site.changes;
    }
    if (!found) throw std::runtime_error("hub does not hold all changes of " + site.code);
  }
}

RepResult RunOnce(IngestFixture& fixture, const IngestOptions& options, const std::string& dir,
                  bool direct, bool load_baseline) {
  RepResult result;
  fixture.CopyTo(dir);
  testing::ProcessOptions hub_options;
  if (options.commit_stats) hub_options.env.push_back({"OSRC_LOG_LEVEL", "debug"});
  testing::Process hub(
      {options.bin + "/osrc-hub", "run", "--data", dir + "/hub", "--console", "off"}, hub_options);
  if (!hub.WaitForOutputLine("listening on", testing::DeadlineIn(std::chrono::minutes(1)),
                             testing::Stream::kStderr)) {
    throw std::runtime_error("hub did not start: " + hub.stderr_text());
  }
  uint16_t hub_port = BoundPort(dir + "/hub/hub.endpoint");
  testing::FaultProxy proxy(hub_port);
  std::string error;
  if (!direct && !proxy.Start(&error)) throw std::runtime_error("proxy: " + error);
  fixture.PointNodesAt(dir, direct ? hub_port : proxy.port());
  std::optional<PreEncodedSites> pre_encoded;
  if (options.pre_encoded) pre_encoded.emplace(fixture, dir);
  proxy.ResetStats();
  double children_start = ChildrenCpuSeconds(), self_start = SelfCpuSeconds();
  double start = NowSeconds(), start_epoch = EpochSeconds();
  if (pre_encoded) {
    pre_encoded->Send("tcp://127.0.0.1:" + std::to_string(direct ? hub_port : proxy.port()),
                      /*window=*/8, std::chrono::minutes(20));
  } else {
    std::vector<std::unique_ptr<testing::Process>> syncs;
    for (const SiteData& site : fixture.sites()) {
      syncs.push_back(std::make_unique<testing::Process>(
          std::vector<std::string>{options.bin + "/osrc-node", "sync", "--data",
                                   dir + "/" + site.code, "--timeout", "1200"}));
    }
    for (auto& sync : syncs) {
      auto status = sync->WaitFor(std::chrono::minutes(25));
      if (!status || !status->success()) {
        throw std::runtime_error(sync->CommandLine() + " failed: " + sync->stderr_text());
      }
    }
  }
  result.ingest.seconds = NowSeconds() - start;
  result.nodes_cpu = ChildrenCpuSeconds() - children_start;
  result.proxy_cpu = SelfCpuSeconds() - self_start;
  result.hub_cpu = ProcessCpuSeconds(hub.pid());
  testing::FaultProxyStats stats = proxy.Stats();
  result.bytes_up = stats.bytes_up;
  result.bytes_down = stats.bytes_down;
  hub.Kill(SIGTERM);
  auto hub_status = hub.WaitFor(std::chrono::minutes(1));
  if (!hub_status || !hub_status->success()) throw std::runtime_error("hub did not stop cleanly");
  proxy.Stop();
  if (options.commit_stats) CountCommits(hub, start_epoch, &result);
  CheckHubStatus(options.bin, dir + "/hub", fixture);
  if (load_baseline) fixture.LoadBaseline(dir + "/hub");
  std::filesystem::remove_all(dir);

  std::string raw = dir + "-raw";
  std::filesystem::create_directories(raw);
  result.baseline =
      TimeRawPuts(raw, config::HubConfig{}.store, {"records"}, fixture.baseline_batches());
  std::filesystem::remove_all(raw);
  return result;
}

template <typename F>
double MedianBy(const std::vector<RepResult>& reps, F get) {
  std::vector<double> values;
  for (const RepResult& rep : reps) values.push_back(get(rep));
  return Median(values);
}

void Report(const IngestFixture& fixture, const IngestOptions& options, bool direct,
            const std::vector<RepResult>& reps) {
  double changes = static_cast<double>(fixture.total_changes());
  std::vector<Timing> ingest, baseline;
  for (const RepResult& rep : reps) {
    ingest.push_back(rep.ingest);
    baseline.push_back(rep.baseline);
  }
  double ingest_s = MedianOf(ingest, &Timing::seconds);
  double baseline_s = MedianOf(baseline, &Timing::seconds);
  double ratio = baseline_s / ingest_s;
  size_t batches = fixture.baseline_batches().size();

  Table rates("Hub ingest of " + Thousands(changes) + " changes (4 sites x " +
              Thousands(changes / 4) + "): medians of " + std::to_string(reps.size()) +
              " repetitions");
  rates.Header({"", "wall s", "changes/s", "min s", "max s", "ingest/this", "target >= 0.5"});
  std::string senders =
      options.pre_encoded ? "4 sites' pre-encoded pushes from one process" : "4 concurrent syncs";
  rates.Row({"hub ingest, " + senders + ", CURVE, " + (direct ? "direct" : "via proxy"),
             Fixed(ingest_s, 2), Thousands(changes / ingest_s),
             Fixed(MinOf(ingest, &Timing::seconds), 2), Fixed(MaxOf(ingest, &Timing::seconds), 2),
             "", ""});
  rates.Row({"raw LMDB batched durable puts", Fixed(baseline_s, 2), Thousands(changes / baseline_s),
             Fixed(MinOf(baseline, &Timing::seconds), 2),
             Fixed(MaxOf(baseline, &Timing::seconds), 2), Fixed(ratio, 3),
             ratio >= 0.5 ? "met" : "MISSED"});
  rates.Print();
  std::cout << "  baseline: " << Thousands(batches) << " durable txns of "
            << Fixed(changes / batches, 0) << " puts (push rule: change bytes up to "
            << fixture.batch_bytes() / 1024 << " KiB), record state "
            << Fixed(fixture.baseline_value_bytes(), 1) << " B/record; commit "
            << Fixed(MedianOf(baseline, &Timing::commit_seconds), 2) << " s of the wall time\n";

  if (!direct) {
    double up = MedianBy(reps, [](const RepResult& r) { return double(r.bytes_up); }) / changes;
    double down = MedianBy(reps, [](const RepResult& r) { return double(r.bytes_down); }) / changes;
    double json = fixture.total_json_bytes() / changes;
    Table wire("Bytes on the wire per change (TCP payload at the proxy, CURVE + ZMTP framing)");
    wire.Header({"", "bytes/change", "vs JSON Lines", "target <= 25"});
    wire.Row({"node -> hub", Fixed(up, 1), Fixed(up / json, 3), ""});
    wire.Row({"hub -> node", Fixed(down, 1), Fixed(down / json, 3), ""});
    wire.Row({"both directions", Fixed(up + down, 1), Fixed((up + down) / json, 3),
              up + down <= 25 ? "met" : "MISSED"});
    wire.Row({"JSON Lines of the same records", Fixed(json, 1), "1.000", ""});
    wire.Print();
  }

  Table cpu("Where the ingest time goes (medians, CPU seconds; 2 cores shared by all)");
  cpu.Header({"", "CPU s", "share of 2 cores x wall"});
  auto row = [&](const std::string& name, double seconds) {
    cpu.Row({name, Fixed(seconds, 2), Fixed(seconds / (2 * ingest_s), 3)});
  };
  row("osrc-hub run", MedianBy(reps, [](const RepResult& r) { return r.hub_cpu; }));
  row("4 x osrc-node sync", MedianBy(reps, [](const RepResult& r) { return r.nodes_cpu; }));
  row(options.pre_encoded ? "bench process (proxy, senders)" : "bench process (proxy)",
      MedianBy(reps, [](const RepResult& r) { return r.proxy_cpu; }));
  cpu.Print();
  if (options.commit_stats) {
    double commits = MedianBy(reps, [](const RepResult& r) { return double(r.commits); });
    double pushes = MedianBy(reps, [](const RepResult& r) { return double(r.pushes); });
    std::cout << "  hub group commits: " << Thousands(commits) << " durable txns for "
              << Thousands(pushes) << " pushes (" << Fixed(changes / std::max(1.0, pushes), 0)
              << " changes/push, " << Fixed(pushes / std::max(1.0, commits), 2)
              << " pushes/commit)\n  hub's last group commit "
              << Fixed(MedianBy(reps, [](const RepResult& r) { return r.last_commit; }), 2)
              << " s after the start (log time, ms); the rest of the wall time is the syncs' "
                 "ending\n";
  }
  double import_s = 0;
  for (const SiteData& site : fixture.sites()) import_s = std::max(import_s, site.import_seconds);
  std::cout << "  setup (untimed): 4 concurrent `osrc-node import` took " << Fixed(import_s, 1)
            << " s\n  reproduce: " << options.bin << "/osrc-bench-ingest --reps " << options.reps
            << " --participants " << options.participants << " --scale " << options.scale
            << (direct ? " --direct" : "") << (options.commit_stats ? " --commit-stats" : "")
            << (options.pre_encoded ? " --pre-encoded" : "") << "\n";
}

void Run(IngestOptions options, bool direct) {
  if (options.bin.empty()) options.bin = SelfDir();
  testing::TempDir work("osrc-bench-ingest");
  int participants = std::max(1, static_cast<int>(options.participants * options.scale));
  std::cout << "ingest benchmark: 4 sites x osrc-gen --participants " << participants
            << " --services-per 1, " << options.reps << " repetitions, work folder " << work.path()
            << std::endl;
  IngestFixture fixture(options, work.path());
  std::cout << "  setup done: " << Thousands(fixture.total_changes()) << " changes, "
            << Thousands(fixture.total_json_bytes()) << " JSON bytes" << std::endl;
  std::vector<RepResult> reps;
  for (int rep = 0; rep < options.reps; ++rep) {
    reps.push_back(
        RunOnce(fixture, options, work.Path("run-" + std::to_string(rep)), direct, rep == 0));
    const RepResult& r = reps.back();
    std::cout << "  rep " << rep + 1 << ": ingest " << Fixed(r.ingest.seconds, 2) << " s, raw "
              << Fixed(r.baseline.seconds, 2) << " s, wire " << Thousands(r.bytes_up) << " up "
              << Thousands(r.bytes_down) << " down, CPU hub " << Fixed(r.hub_cpu, 1) << " nodes "
              << Fixed(r.nodes_cpu, 1) << " proxy " << Fixed(r.proxy_cpu, 1) << std::endl;
  }
  Report(fixture, options, direct, reps);
}

}  // namespace
}  // namespace osrc::bench

int main(int argc, char** argv) {
  osrc::bench::IngestOptions options;
  bool direct = false;
  CLI::App app("Times hub ingest from four concurrent site syncs against raw LMDB puts.");
  app.add_option("--bin", options.bin, "folder of osrc-node, osrc-hub, osrc-gen (default: here)");
  app.add_option("--participants", options.participants,
                 "participants per site, each with 1 service (default 125000)");
  app.add_option("--scale", options.scale, "multiplies --participants (quick check: 0.05)");
  app.add_option("--reps", options.reps, "repetitions (default 5)")->check(CLI::PositiveNumber);
  app.add_flag("--commit-stats", options.commit_stats,
               "run the hub at debug level and count its group commits");
  app.add_flag("--direct", direct, "no proxy: nodes connect to the hub (no byte counts)");
  app.add_flag("--pre-encoded", options.pre_encoded,
               "time the hub alone: the sites' pushes encoded before the clock starts and sent "
               "by this process instead of four osrc-node sync processes");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    osrc::bench::Run(options, direct);
  } catch (const std::exception& e) {
    std::cerr << "osrc-bench-ingest: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
