#include "tests/support/postgres.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>

#include "tests/support/process.h"

namespace osrc::testing {
namespace {

constexpr char kBin[] = "/usr/lib/postgresql/15/bin/";
// A port no one listens on now (the kernel's pick for 127.0.0.1 port 0): the server only takes a
// unix socket in our folder, named by the port, but its shared memory keys derive from it too.
std::string FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("cannot open a socket to find a free port");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
            getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
  close(fd);
  if (!ok) throw std::runtime_error("cannot find a free port on 127.0.0.1");
  return std::to_string(ntohs(address.sin_port));
}

const passwd* ServerUser() {
  if (geteuid() != 0) return nullptr;
  const passwd* user = getpwnam("postgres");
  if (user == nullptr) throw std::runtime_error("running as root, but no \"postgres\" user");
  return user;
}

}  // namespace

PostgresServer::PostgresServer() : dir_("osrc-postgres"), port_(FreePort()) {
  if (const passwd* user = ServerUser()) {
    if (chown(dir_.path().c_str(), user->pw_uid, user->pw_gid) != 0) {
      throw std::runtime_error("cannot hand " + dir_.path() + " to the postgres user");
    }
  }
  RunOrThrow(AsServerUser({std::string(kBin) + "initdb", "-D", dir_.Path("data"), "-U", "postgres",
                           "--auth=trust", "-E", "UTF8", "--no-sync"}));
  Start();
}

PostgresServer::~PostgresServer() {
  if (running_) {
    try {
      Stop();
    } catch (const std::exception&) {
      // The folder goes anyway; a server left behind exits when its data folder is gone.
    }
  }
}

std::string PostgresServer::conninfo() const {
  return "host=" + dir_.path() + " port=" + port_ + " dbname=postgres user=postgres";
}

void PostgresServer::Start() {
  RunOrThrow(AsServerUser(
      {std::string(kBin) + "pg_ctl", "-D", dir_.Path("data"), "-l", dir_.Path("server.log"), "-w",
       "-o", "-p " + port_ + " -k " + dir_.path() + " -c listen_addresses='' -c fsync=off",
       "start"}));
  running_ = true;
}

void PostgresServer::Stop() {
  RunOrThrow(AsServerUser(
      {std::string(kBin) + "pg_ctl", "-D", dir_.Path("data"), "-w", "-m", "fast", "stop"}));
  running_ = false;
}

Rows PostgresServer::Query(const std::string& sql, const std::vector<std::string>& params) const {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo().c_str()), PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error(std::string("cannot connect: ") + PQerrorMessage(conn.get()));
  }
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  std::unique_ptr<PGresult, decltype(&PQclear)> result(
      PQexecParams(conn.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                   nullptr, nullptr, 0),
      PQclear);
  ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    throw std::runtime_error(sql + ": " + PQerrorMessage(conn.get()));
  }
  Rows rows;
  for (int r = 0; r < PQntuples(result.get()); ++r) {
    auto& row = rows.emplace_back();
    for (int c = 0; c < PQnfields(result.get()); ++c) {
      row.push_back(PQgetisnull(result.get(), r, c) ? "\\N" : PQgetvalue(result.get(), r, c));
    }
  }
  return rows;
}

std::vector<std::string> PostgresServer::AsServerUser(std::vector<std::string> args) const {
  const passwd* user = ServerUser();
  if (user == nullptr) return args;
  std::vector<std::string> all = {"setpriv", "--reuid=" + std::to_string(user->pw_uid),
                                  "--regid=" + std::to_string(user->pw_gid), "--clear-groups"};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

void PostgresServer::RunOrThrow(std::vector<std::string> args) const {
  RunResult result = Run(std::move(args));
  if (!result.ok()) throw std::runtime_error(result.Describe());
}

}  // namespace osrc::testing
