#include "hub/mirror.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sodium.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "hub/audit.h"
#include "hub/hub.h"

namespace osrc::hub {
namespace {

constexpr std::string_view kKeyFile = "mirror.key";
constexpr char kCursorTable[] = "osrc_mirror_cursor";

std::atomic<bool> stop_requested{false};
void OnSignal(int) { stop_requested.store(true); }

enum class PiiMode { kOmit, kPseudonymise, kInclude };

std::string Ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string_view SqlType(config::FieldType type) {
  switch (type) {
    case config::FieldType::kInt:
      return "bigint";
    case config::FieldType::kFloat:
      return "double precision";
    case config::FieldType::kBool:
      return "boolean";
    case config::FieldType::kDate:
      return "date";
    case config::FieldType::kDateTime:
      return "timestamptz";
    default:
      return "text";  // text, enum, ref
  }
}

std::string ValueText(const protocol::Value& value) {
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) {
    char buffer[32];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, *d);
    return std::string(buffer, result.ptr);
  }
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  return {};
}

// The key of pseudonymised values: 32 random bytes in <dir>/mirror.key, created 0600.
Status LoadOrCreateKey(const std::string& dir, std::string* key) {
  std::string path = dir + "/" + std::string(kKeyFile);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    std::string fresh(crypto_generichash_KEYBYTES, '\0');
    randombytes_buf(fresh.data(), fresh.size());
    int out = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out >= 0) {
      bool ok = write(out, fresh.data(), fresh.size()) == static_cast<ssize_t>(fresh.size()) &&
                fsync(out) == 0;
      close(out);
      if (!ok) {
        unlink(path.c_str());
        return {ErrorCode::kIo, "cannot write the pseudonymisation key", path};
      }
    } else if (errno != EEXIST) {
      return {ErrorCode::kIo, std::string("cannot create: ") + strerror(errno), path};
    }
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) return {ErrorCode::kIo, std::string("cannot read: ") + strerror(errno), path};
  key->assign(crypto_generichash_KEYBYTES, '\0');
  ssize_t got = read(fd, key->data(), key->size());
  char extra;
  bool exact = got == static_cast<ssize_t>(key->size()) && read(fd, &extra, 1) == 0;
  close(fd);
  if (!exact) {
    return {ErrorCode::kBadInput,
            "must hold exactly " + std::to_string(crypto_generichash_KEYBYTES) + " bytes", path};
  }
  return {};
}

std::string Pseudonym(const std::string& key, const std::string& text) {
  unsigned char hash[32];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), reinterpret_cast<const unsigned char*>(key.data()), key.size());
  char hex[sizeof hash * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
  return hex;
}

struct PgResult {
  PGresult* result;
  explicit PgResult(PGresult* r) : result(r) {}
  ~PgResult() { PQclear(result); }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
};

// Appends `text` to `out` escaped for COPY's text format.
void AppendCopyText(std::string* out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\':
        *out += "\\\\";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      default:
        *out += c;
    }
  }
}

// A mirrored collection: its columns and the SQL that writes a batch of it.
struct Table {
  std::string name;
  std::vector<const config::FieldSpec*> columns;
  std::string copy_stage;    // COPY osrc_stage_<name> FROM STDIN
  std::string copy_direct;   // COPY <name> FROM STDIN (first copy into empty tables)
  std::string merge_stage;   // INSERT INTO <name> SELECT .. FROM the stage ON CONFLICT ..
  std::string delete_stage;  // DELETE FROM <name> the ids staged for deletion
};

// One batch read from the store: per collection, the COPY rows to upsert and the ids to delete.
struct Batch {
  uint64_t last_seq = 0;
  size_t entries = 0;
  std::map<std::string, std::string, std::less<>> upserts;  // collection -> COPY text rows
  std::string deletes;                                      // COPY text rows (collection, id)
  std::set<std::string, std::less<>> deleted_from;          // collections with deletes
};

uint64_t HoldBatchFromEnvironment() {
  const char* value = std::getenv("OSRC_MIRROR_HOLD_BATCH");
  return value == nullptr ? 0 : std::strtoull(value, nullptr, 10);
}

[[noreturn]] void HoldForever() {
  std::fprintf(stderr, "holding a batch open (OSRC_MIRROR_HOLD_BATCH)\n");
  while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
}

class Mirror {
 public:
  Mirror(Hub& hub, const MirrorOptions& options, PiiMode pii, std::string key, spdlog::logger& log)
      : hub_(hub), options_(options), pii_(pii), key_(std::move(key)), log_(log) {}
  ~Mirror() { Disconnect(); }

  // Connects, creates or extends the tables, and starts again from the beginning if the cursor
  // belongs to another hub epoch (a hub restored from a backup) or lies past the hub's feed.
  void Connect() {
    Disconnect();
    direct_until_ = 0;
    conn_ = PQconnectdb(options_.conninfo.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) Fail("cannot connect to PostgreSQL");
    Exec("SET client_min_messages = warning");
    {
      // One mirror per database: a second would apply the same batches beside the first.
      PgResult lock(PQexec(conn_, "SELECT pg_try_advisory_lock(hashtext('osrc_mirror'))"));
      Check(lock.result, PGRES_TUPLES_OK, "cannot take the mirror's lock");
      if (std::string_view(PQgetvalue(lock.result, 0, 0)) != "t") {
        throw Error(ErrorCode::kBadInput, "another osrc-hub mirror is writing to this database");
      }
    }
    Exec("BEGIN");
    Exec(std::string("CREATE TABLE IF NOT EXISTS ") + kCursorTable +
         " (name text PRIMARY KEY, feed_seq bigint NOT NULL, epoch text NOT NULL DEFAULT '',"
         " pii text NOT NULL DEFAULT '')");
    Exec(std::string("INSERT INTO ") + kCursorTable +
         " VALUES ('feed', 0, '', '') ON CONFLICT (name) DO NOTHING");
    tables_.clear();
    for (const auto& [name, spec] : hub_.schema().collections()) {
      Table table;
      table.name = name;
      std::string stage = Ident("osrc_stage_" + name);
      Exec("CREATE TABLE IF NOT EXISTS " + Ident(name) + " (id text PRIMARY KEY)");
      for (const std::string& field : spec.field_order) {
        const config::FieldSpec* f = spec.Find(field);
        if (f == nullptr || (f->pii && pii_ == PiiMode::kOmit)) continue;
        std::string_view type =
            f->pii && pii_ == PiiMode::kPseudonymise ? "text" : SqlType(f->type);
        Exec("ALTER TABLE " + Ident(name) + " ADD COLUMN IF NOT EXISTS " + Ident(field) + " " +
             std::string(type));
        table.columns.push_back(f);
      }
      std::string columns = "id", updates;
      for (size_t i = 0; i < table.columns.size(); ++i) {
        std::string column = Ident(table.columns[i]->name);
        columns += ", " + column;
        updates += (i == 0 ? "" : ", ") + column + " = EXCLUDED." + column;
      }
      Exec("CREATE TEMP TABLE IF NOT EXISTS " + stage + " ON COMMIT DELETE ROWS AS SELECT " +
           columns + " FROM " + Ident(name) + " WITH NO DATA");
      table.copy_stage = "COPY " + stage + " (" + columns + ") FROM STDIN";
      table.copy_direct = "COPY " + Ident(name) + " (" + columns + ") FROM STDIN";
      table.merge_stage = "INSERT INTO " + Ident(name) + " (" + columns + ") SELECT " + columns +
                          " FROM " + stage + " ON CONFLICT (id) DO " +
                          (updates.empty() ? std::string("NOTHING") : "UPDATE SET " + updates);
      table.delete_stage = "DELETE FROM " + Ident(name) +
                           " t USING osrc_stage_deletes d WHERE d.collection = " + Literal(name) +
                           " AND t.id = d.id";
      tables_.emplace(name, std::move(table));
    }
    Exec(
        "CREATE TEMP TABLE IF NOT EXISTS osrc_stage_deletes (collection text, id text) "
        "ON COMMIT DELETE ROWS");
    uint64_t cursor = CheckEpoch();
    if (cursor == 0 && TablesEmpty()) {
      storage::ReadTxn txn(hub_.store().env());
      direct_until_ = hub_.store().FeedHead(txn);
    }
    Exec("COMMIT");
  }

  // Applies one batch after the cursor; returns the feed entries applied (0: at the head).
  size_t Step() {
    uint64_t cursor = Cursor();
    // The first copy into empty tables: the records up to the feed head seen then have no row
    // yet (a record changed since moved past that head), so COPY puts them straight in.
    bool direct = cursor < direct_until_;
    Batch batch = Read(cursor, direct ? direct_until_ : UINT64_MAX);
    if (batch.entries == 0) return 0;
    Exec("BEGIN");
    for (const auto& [collection, rows] : batch.upserts) {
      const Table& table = tables_.at(collection);
      if (direct) {
        Copy(table.copy_direct, rows);
      } else {
        Copy(table.copy_stage, rows);
        Exec(table.merge_stage);
      }
    }
    if (!batch.deletes.empty() && !direct) {  // direct: a deleted record has no row to remove
      Copy("COPY osrc_stage_deletes (collection, id) FROM STDIN", batch.deletes);
      for (const std::string& collection : batch.deleted_from) {
        Exec(tables_.at(collection).delete_stage);
      }
    }
    Exec(std::string("UPDATE ") + kCursorTable +
         " SET feed_seq = " + std::to_string(batch.last_seq) + " WHERE name = 'feed'");
    if (++batches_ == hold_batch_) HoldForever();
    Exec("COMMIT");
    return batch.entries;
  }

  uint64_t Cursor() {
    PgResult result(PQexec(
        conn_,
        (std::string("SELECT feed_seq FROM ") + kCursorTable + " WHERE name = 'feed'").c_str()));
    Check(result.result, PGRES_TUPLES_OK, "cannot read the mirror's cursor");
    if (PQntuples(result.result) != 1) Fail("the mirror's cursor row is missing");
    return std::stoull(PQgetvalue(result.result, 0, 0));
  }

 private:
  void Disconnect() {
    if (conn_ == nullptr) return;
    // The lock goes first, so the next connection (ours or the next mirror's) finds it free at
    // once; the server would release it only once it has noticed the connection closed.
    if (PQstatus(conn_) == CONNECTION_OK) {
      if (PQtransactionStatus(conn_) != PQTRANS_IDLE) PQclear(PQexec(conn_, "ROLLBACK"));
      PQclear(PQexec(conn_, "SELECT pg_advisory_unlock_all()"));
    }
    PQfinish(conn_);
    conn_ = nullptr;
  }

  // Inside Connect's transaction: a cursor of another epoch, or past the feed, starts over.
  // Returns the cursor's feed seq then.
  uint64_t CheckEpoch() {
    std::string epoch = HexEpoch();
    PgResult result(PQexec(conn_, (std::string("SELECT feed_seq, epoch, pii FROM ") + kCursorTable +
                                   " WHERE name = 'feed'")
                                      .c_str()));
    Check(result.result, PGRES_TUPLES_OK, "cannot read the mirror's cursor");
    if (PQntuples(result.result) != 1) Fail("the mirror's cursor row is missing");
    uint64_t seq = std::stoull(PQgetvalue(result.result, 0, 0));
    std::string mirrored_epoch = PQgetvalue(result.result, 0, 1);
    std::string mirrored_pii = PQgetvalue(result.result, 0, 2);
    std::string pii = PiiSetting();
    if (!mirrored_pii.empty() && mirrored_pii != pii) {
      // Rows and column types follow the mode: mixing two would leave columns empty or wrong.
      throw Error(ErrorCode::kBadInput,
                  "the database was mirrored with personal fields: " + mirrored_pii +
                      ", and hub.toml now says: " + pii +
                      "; drop the mirror's tables and osrc_mirror_cursor to copy again");
    }
    uint64_t head;
    {
      storage::ReadTxn txn(hub_.store().env());
      head = hub_.store().FeedHead(txn);
    }
    std::string reason;
    if (!mirrored_epoch.empty() && mirrored_epoch != epoch) {
      reason = "the database mirrors hub epoch " + mirrored_epoch + ", this hub is at epoch " +
               epoch + " (restored from a backup?)";
    } else if (seq > head) {
      reason = "the database's cursor (feed seq " + std::to_string(seq) +
               ") is past this hub's feed (" + std::to_string(head) + ")";
    } else if (mirrored_epoch.empty() && seq > 0) {
      reason = "the database's cursor names no hub epoch";
    }
    if (!reason.empty()) {
      log_.warn("{}: copying everything again", reason);
      for (const auto& [name, table] : tables_) Exec("TRUNCATE " + Ident(name));
      seq = 0;
    }
    Exec(std::string("UPDATE ") + kCursorTable + " SET feed_seq = " + std::to_string(seq) +
         ", epoch = " + Literal(epoch) + ", pii = " + Literal(pii) + " WHERE name = 'feed'");
    return seq;
  }

  bool TablesEmpty() {
    for (const auto& [name, table] : tables_) {
      PgResult result(PQexec(conn_, ("SELECT 1 FROM " + Ident(name) + " LIMIT 1").c_str()));
      Check(result.result, PGRES_TUPLES_OK, "cannot read " + name);
      if (PQntuples(result.result) > 0) return false;
    }
    return true;
  }

  // The pii mode, and for pseudonymise which key (a keyed hash of a fixed text, not the key).
  std::string PiiSetting() const {
    switch (pii_) {
      case PiiMode::kOmit:
        return "omit";
      case PiiMode::kInclude:
        return "include";
      case PiiMode::kPseudonymise:
        return "pseudonymise (key " + Pseudonym(key_, "osrc-sync mirror key").substr(0, 16) + ")";
    }
    return {};
  }

  std::string HexEpoch() {
    std::string raw = hub_.epoch();
    std::string hex(raw.size() * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                   raw.size());
    hex.pop_back();
    return hex;
  }

  // Up to options_.batch feed entries after `cursor` and up to `last`, with each record's current
  // state.
  Batch Read(uint64_t cursor, uint64_t last) {
    Batch batch;
    storage::ReadTxn txn(hub_.store().env());
    hub_.store().ForEachFeed(txn, cursor, options_.batch,
                             [&](uint64_t seq, std::string_view collection, std::string_view id) {
                               if (seq > last) return;
                               batch.last_seq = seq;
                               ++batch.entries;
                               auto table = tables_.find(collection);
                               if (table == tables_.end())
                                 return;  // not in the schema: nothing to mirror
                               std::optional<storage::RecordState> state =
                                   hub_.store().GetRecord(txn, collection, id);
                               if (state && state->live()) {
                                 AppendRow(table->second, id, *state, &batch.upserts[table->first]);
                               } else {
                                 batch.deleted_from.emplace(collection);
                                 AppendCopyText(&batch.deletes, collection);
                                 batch.deletes += '\t';
                                 AppendCopyText(&batch.deletes, id);
                                 batch.deletes += '\n';
                               }
                             });
    return batch;
  }

  void AppendRow(const Table& table, std::string_view id, const storage::RecordState& state,
                 std::string* out) const {
    AppendCopyText(out, id);
    for (const config::FieldSpec* f : table.columns) {
      *out += '\t';
      auto field = state.fields.find(f->name);
      if (field == state.fields.end() || protocol::IsNull(field->second.value)) {
        *out += "\\N";
        continue;
      }
      std::string text = ValueText(field->second.value);
      AppendCopyText(out, f->pii && pii_ == PiiMode::kPseudonymise ? Pseudonym(key_, text) : text);
    }
    *out += '\n';
  }

  void Copy(const std::string& sql, const std::string& rows) {
    {
      PgResult start(PQexec(conn_, sql.c_str()));
      Check(start.result, PGRES_COPY_IN, sql);
    }
    if (PQputCopyData(conn_, rows.data(), static_cast<int>(rows.size())) != 1 ||
        PQputCopyEnd(conn_, nullptr) != 1) {
      Fail(sql);
    }
    PgResult end(PQgetResult(conn_));
    Check(end.result, PGRES_COMMAND_OK, sql);
    while (PGresult* more = PQgetResult(conn_)) PQclear(more);
  }

  std::string Literal(const std::string& text) const {
    char* quoted = PQescapeLiteral(conn_, text.data(), text.size());
    if (quoted == nullptr) throw Error(ErrorCode::kBadInput, "cannot quote " + text);
    std::string out = quoted;
    PQfreemem(quoted);
    return out;
  }
  void Exec(const std::string& sql) {
    PgResult result(PQexec(conn_, sql.c_str()));
    Check(result.result, PGRES_COMMAND_OK, sql);
  }
  void Check(PGresult* result, ExecStatusType want, const std::string& what) {
    if (PQresultStatus(result) != want) Fail(what);
  }
  [[noreturn]] void Fail(const std::string& what) {
    std::string message = PQerrorMessage(conn_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    throw Error(ErrorCode::kIo, what + ": " + message);
  }

  Hub& hub_;
  const MirrorOptions& options_;
  PiiMode pii_;
  std::string key_;
  spdlog::logger& log_;
  PGconn* conn_ = nullptr;
  std::map<std::string, Table, std::less<>> tables_;
  uint64_t direct_until_ = 0;  // feed seq up to which COPY goes straight into the tables
  uint64_t batches_ = 0;       // applied by this run
  // Tests: OSRC_MIRROR_HOLD_BATCH=N holds the Nth batch's transaction open until the process
  // is killed, so a kill lands inside a batch.
  uint64_t hold_batch_ = HoldBatchFromEnvironment();
};

// Sleeps up to `ms`, waking early on a stop request.
void Pause(int ms) {
  for (int waited = 0; waited < ms && !stop_requested.load(); waited += 50) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

std::string ConninfoForDisplay(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    return "(unparsable conninfo)";
  }
  std::string out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string_view(o->keyword) == "password") continue;
    if (!out.empty()) out += ' ';
    out += std::string(o->keyword) + "=" + o->val;
  }
  PQconninfoFree(options);
  return out;
}

Status CommandMirror(const std::string& dir, const MirrorOptions& options) {
  if (options.batch == 0) return {ErrorCode::kBadInput, "must be at least 1", "--batch"};
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub, storage::Store::Feed::kKeep));
  const std::string& mode = hub->config().mirror_pii;
  PiiMode pii = mode == "include"        ? PiiMode::kInclude
                : mode == "pseudonymise" ? PiiMode::kPseudonymise
                                         : PiiMode::kOmit;
  std::string key;
  if (pii == PiiMode::kPseudonymise) OSRC_RETURN_IF_ERROR(LoadOrCreateKey(dir, &key));
  std::string target = ConninfoForDisplay(options.conninfo);
  OSRC_RETURN_IF_ERROR(
      AppendAudit(dir, CommandLineActor(), "mirror", target, "personal fields: " + mode));
  auto log = spdlog::stderr_logger_mt("mirror");
  log->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  Mirror mirror(*hub, options, pii, key, *log);
  size_t applied = 0;
  if (options.once) {
    try {
      mirror.Connect();
      while (size_t n = mirror.Step()) applied += n;
      std::cout << "mirrored " << applied << " records to " << target << ", feed seq "
                << mirror.Cursor() << "\n";
    } catch (const Error& e) {
      return {e.code(), e.what(), "mirror to " + target};
    } catch (const std::exception& e) {
      return {ErrorCode::kIo, e.what(), "mirror to " + target};
    }
    return {};
  }
  bool connected = false;
  int backoff_ms = 500;
  while (!stop_requested.load()) {
    try {
      if (!connected) {
        mirror.Connect();
        connected = true;
        backoff_ms = 500;
        log->info("mirroring to {} from feed seq {}", target, mirror.Cursor());
      }
      size_t n = mirror.Step();
      if (n > 0) {
        log->info("mirrored {} records, feed seq {}", n, mirror.Cursor());
      } else {
        Pause(1000);
      }
    } catch (const Error& e) {
      if (e.code() == ErrorCode::kBadInput) {  // the setup is wrong: retrying cannot help
        return {e.code(), e.what(), "mirror to " + target};
      }
      log->warn("{}; retrying in {} ms", e.what(), backoff_ms);
      connected = false;
      Pause(backoff_ms);
      backoff_ms = std::min(backoff_ms * 2, 30000);
    } catch (const std::exception& e) {
      log->warn("{}; retrying in {} ms", e.what(), backoff_ms);
      connected = false;
      Pause(backoff_ms);
      backoff_ms = std::min(backoff_ms * 2, 30000);
    }
  }
  log->info("stopped");
  return {};
}

}  // namespace osrc::hub
