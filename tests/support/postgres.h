// PostgresServer: a private PostgreSQL 15 server for one test, in a temporary folder (initdb,
// pg_ctl from /usr/lib/postgresql/15/bin), reached over a unix socket in that folder with trust
// authentication as user "postgres", on a free port. Run as root, the server runs as the "postgres"
// system user (setpriv). Stopped (pg_ctl stop -m fast) and removed when destroyed. Throws
// std::runtime_error with the failing command's output if the server cannot be set up.
// Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace osrc::testing {

using Rows = std::vector<std::vector<std::string>>;  // NULL reads as "\\N"

class PostgresServer {
 public:
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // A libpq connection string for database "postgres".
  std::string conninfo() const;
  void Start();
  void Stop();

  // Runs `sql` (one statement) with text parameters; throws with PostgreSQL's message.
  Rows Query(const std::string& sql, const std::vector<std::string>& params = {}) const;

 private:
  std::vector<std::string> AsServerUser(std::vector<std::string> args) const;
  void RunOrThrow(std::vector<std::string> args) const;

  TempDir dir_;
  std::string port_;
  bool running_ = false;
};

}  // namespace osrc::testing
