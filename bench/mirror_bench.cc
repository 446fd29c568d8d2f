// osrc-bench-mirror: times the first copy of `osrc-hub mirror --once` (a real process) of a hub
// store of P participants and 3P services (default P = 1,000,000) into an empty PostgreSQL 15
// database (a private server, tests/support/postgres.h), against the baseline in the same run:
// PostgreSQL COPY of the same rows (as the mirror left them, fetched untimed with COPY TO) into
// tables of the same columns and primary keys, through libpq. Also times filling the store with
// and without the feed the mirror follows (what keeping the feed costs each merge). Reports
// medians of --reps runs.

#include <libpq-fe.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "bench/bench_util.h"
#include "bench/sample_hub.h"
#include "config/data_config.h"
#include "storage/store.h"
#include "tests/support/postgres.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace osrc::bench {
namespace {

constexpr const char* kTables[] = {"participants", "services"};

using Connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;

Connection Connect(const std::string& conninfo) {
  Connection conn(PQconnectdb(conninfo.c_str()), PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error(std::string("cannot connect: ") + PQerrorMessage(conn.get()));
  }
  return conn;
}

void Exec(PGconn* conn, const std::string& sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn, sql.c_str()), PQclear);
  ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error(sql + ": " + PQerrorMessage(conn));
  }
}

// The rows of `table` in COPY's text format.
std::string CopyOut(PGconn* conn, const std::string& table) {
  std::string sql = "COPY " + table + " TO STDOUT";
  {
    std::unique_ptr<PGresult, decltype(&PQclear)> start(PQexec(conn, sql.c_str()), PQclear);
    if (PQresultStatus(start.get()) != PGRES_COPY_OUT) {
      throw std::runtime_error(sql + ": " + PQerrorMessage(conn));
    }
  }
  std::string rows;
  char* line = nullptr;
  int size;
  while ((size = PQgetCopyData(conn, &line, 0)) > 0) {
    rows.append(line, size);
    PQfreemem(line);
  }
  while (PGresult* rest = PQgetResult(conn)) PQclear(rest);
  return rows;
}

// The baseline: new tables like the mirror's (columns, primary key), filled by one COPY each.
double CopySeconds(const std::string& conninfo, const std::vector<std::string>& rows) {
  double start = NowSeconds();
  Connection conn = Connect(conninfo);
  Exec(conn.get(), "BEGIN");
  for (size_t i = 0; i < std::size(kTables); ++i) {
    std::string table = std::string("baseline_") + kTables[i];
    Exec(conn.get(), "CREATE TABLE " + table + " (LIKE " + kTables[i] + " INCLUDING ALL)");
    std::string sql = "COPY " + table + " FROM STDIN";
    std::unique_ptr<PGresult, decltype(&PQclear)> begin(PQexec(conn.get(), sql.c_str()), PQclear);
    if (PQresultStatus(begin.get()) != PGRES_COPY_IN ||
        PQputCopyData(conn.get(), rows[i].data(), static_cast<int>(rows[i].size())) != 1 ||
        PQputCopyEnd(conn.get(), nullptr) != 1) {
      throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
    }
    std::unique_ptr<PGresult, decltype(&PQclear)> end(PQgetResult(conn.get()), PQclear);
    if (PQresultStatus(end.get()) != PGRES_COMMAND_OK) {
      throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
    }
    while (PGresult* rest = PQgetResult(conn.get())) PQclear(rest);
  }
  Exec(conn.get(), "COMMIT");
  double seconds = NowSeconds() - start;
  for (const char* name : kTables) Exec(conn.get(), std::string("DROP TABLE baseline_") + name);
  return seconds;
}

// Seconds to fill a fresh store in `dir` with or without the feed.
double FillSeconds(const std::string& dir, int participants, storage::Store::Feed feed) {
  storage::EnvOptions options = config::HubConfig{}.store;
  options.durable = false;
  options.map_size = size_t{16} << 30;  // room for the whole data set at scale 1
  storage::Store store(dir, options, feed);
  double start = NowSeconds();
  Fill(store, participants);
  return NowSeconds() - start;
}

int Run(const SampleOptions& options) {
  int participants = options.Scaled();
  testing::TempDir tmp("osrc-bench-mirror");
  std::string hub = tmp.Path("hub");
  MustRun({testing::BinPath("osrc-hub"), "init", "--data", hub, "--bind", "tcp://127.0.0.1:*"});
  std::cout << "filling a hub store: " << Thousands(participants) << " participants, "
            << Thousands(3.0 * participants) << " services" << std::endl;
  double with_feed = FillSeconds(hub, participants, storage::Store::Feed::kKeep);
  std::vector<double> without_feed;
  for (int rep = 0; rep < options.reps; ++rep) {
    testing::TempDir scratch("osrc-bench-mirror-nofeed");
    without_feed.push_back(FillSeconds(scratch.path(), participants, storage::Store::Feed::kNone));
  }

  testing::PostgresServer server;
  std::string conninfo = server.conninfo();
  std::vector<double> mirror, copy;
  std::vector<std::string> rows;
  for (int rep = 0; rep < options.reps; ++rep) {
    {
      Connection conn = Connect(conninfo);
      Exec(conn.get(), "SET client_min_messages = warning");
      Exec(conn.get(), "DROP SCHEMA public CASCADE");
      Exec(conn.get(), "CREATE SCHEMA public");
    }
    double start = NowSeconds();
    MustRun(
        {testing::BinPath("osrc-hub"), "mirror", "--once", "--data", hub, "--postgres", conninfo},
        std::chrono::hours(2));
    mirror.push_back(NowSeconds() - start);
    if (rows.empty()) {
      Connection conn = Connect(conninfo);
      for (const char* table : kTables) rows.push_back(CopyOut(conn.get(), table));
    }
    copy.push_back(CopySeconds(conninfo, rows));
  }
  double mirror_median = Median(mirror), copy_median = Median(copy);
  Table table("mirror first copy vs PostgreSQL COPY of the same rows (medians of " +
              std::to_string(options.reps) + ")");
  table.Header({"rows", "COPY s", "mirror s", "ratio", "mirror rows/s"});
  table.Row({Thousands(4.0 * participants), Fixed(copy_median, 2), Fixed(mirror_median, 2),
             Fixed(mirror_median / copy_median, 2), Thousands(4.0 * participants / mirror_median)});
  table.Print();
  Table feed("merging the same records into a store, with and without the feed (1 run with)");
  feed.Header({"records", "no feed s", "feed s", "ratio"});
  double none = Median(without_feed);
  feed.Row({Thousands(4.0 * participants), Fixed(none, 2), Fixed(with_feed, 2),
            Fixed(with_feed / none, 2)});
  feed.Print();
  return 0;
}

}  // namespace
}  // namespace osrc::bench

int main(int argc, char** argv) {
  return osrc::bench::SampleBenchMain(argc, argv, "osrc-bench-mirror",
                                      "the mirror's first copy vs PostgreSQL COPY",
                                      {.participants = 1'000'000, .reps = 3}, osrc::bench::Run);
}
