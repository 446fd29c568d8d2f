#include "hub/conflicts_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/text.h"
#include "config/record_json.h"
#include "hub/audit.h"
#include "hub/hub.h"
#include "protocol/change.h"
#include "replica/records.h"

namespace osrc::hub {
namespace {

// Appends one line to the resolved list, durably.
Status AppendResolved(const std::string& dir, const std::string& line) {
  std::string path = dir + "/" + std::string(kResolvedConflictsFile);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return {ErrorCode::kIo, "cannot open the resolved conflicts list", path};
  bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced)
    return {ErrorCode::kIo, "cannot write the resolved conflicts list (disk full?)", path};
  return {};
}

}  // namespace

Status CommandConflictsList(const std::string& dir, const ConflictsListOptions& options) {
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  if (options.show_personal) {
    OSRC_RETURN_IF_ERROR(AppendAudit(dir, CommandLineActor(), "view personal", "conflicts"));
  }
  storage::ReadTxn txn(hub->store().env());
  replica::ForEachMatchingConflict(hub->store(), txn, options.filter,
                                   [&](const storage::StoredConflict& c) {
                                     std::cout << replica::ConflictLine(
                                         hub->schema(), c, options.show_personal, options.as_json);
                                   });
  return {};
}

Status ResolveConflict(Hub& hub, const ResolveOptions& options, const std::string& actor,
                       std::string* outcome) {
  const std::string& dir = hub.dir();
  const bool by_value = !options.value.empty();
  if (by_value == !options.keep.empty()) {
    return {ErrorCode::kBadInput, "give either --keep winner|loser or --value JSON",
            "conflicts resolve"};
  }
  if (!by_value && options.keep != "winner" && options.keep != "loser") {
    return {ErrorCode::kBadInput, "expected winner or loser, got \"" + options.keep + "\"",
            "--keep"};
  }
  Hub* const h = &hub;
  std::optional<storage::StoredConflict> found;
  {
    storage::ReadTxn txn(h->store().env());
    h->store().ForEachConflict(txn, [&](const storage::StoredConflict& c) {
      if (!found && replica::ConflictId(c) == options.id) found = c;
    });
  }
  if (!found) {
    return {ErrorCode::kNotFound,
            "no open conflict with this id (osrc-hub conflicts list shows the ids)",
            "conflict " + options.id};
  }
  const storage::StoredConflict& c = *found;
  std::string record = protocol::RecordName(c.collection, c.id);
  std::string decision = by_value ? "value" : "keep " + options.keep;
  nlohmann::json value;
  if (by_value) {
    try {
      value = nlohmann::json::parse(options.value);
    } catch (const nlohmann::json::exception& e) {
      return {ErrorCode::kBadInput, std::string("not JSON: ") + e.what(), "--value"};
    }
  } else if (options.keep == "loser") {
    value = nlohmann::json::parse(config::ValueJson(c.conflict.loser_value));
  }
  if (decision != "keep winner" && c.conflict.winner_deleted) {
    return {ErrorCode::kBadInput,
            "the record was deleted since; re-create it with osrc-hub put, or --keep winner",
            record};
  }
  OSRC_RETURN_IF_ERROR(AppendAudit(dir, actor, "conflict resolution",
                                   record + " field " + c.conflict.field,
                                   "conflict " + options.id + ": " + decision));
  if (decision != "keep winner") {
    nlohmann::json fields = {{c.conflict.field, value}};
    replica::Writer writer = h->writer();
    bool changed = false;
    OSRC_RETURN_IF_ERROR(storage::WithGrowth(h->store().env(), [&] {
      return replica::PutJson(writer, c.collection, c.id, fields.dump(), &changed);
    }));
  }
  nlohmann::ordered_json line;
  line["conflict"] = options.id;
  line["collection"] = c.collection;
  line["id"] = c.id;
  line["field"] = c.conflict.field;
  line["decision"] = decision;
  // A personal value stays in the store only, where an erasure reaches it.
  if (decision != "keep winner") {
    line["value"] = replica::IsPersonal(h->schema(), c) ? nlohmann::json("(personal)") : value;
  }
  line["actor"] = actor;
  line["time"] = UtcTimeOf(h->clock().NowMillis());
  OSRC_RETURN_IF_ERROR(AppendResolved(dir, line.dump() + "\n"));
  OSRC_RETURN_IF_ERROR(storage::WithGrowth(h->store().env(), [&]() -> Status {
    storage::WriteTxn txn(h->store().env());
    txn.Del(h->store().conflicts(), replica::ConflictKey(c));
    txn.Commit();
    return {};
  }));
  *outcome = "resolved " + options.id + " (" + record + " field " + c.conflict.field + "): " +
             (decision == "keep winner"  ? "dismissed, kept the winner"
              : decision == "keep loser" ? "took the lost value, a correction"
                                         : "set a new value, a correction");
  return {};
}

Status CommandConflictsResolve(const std::string& dir, const ResolveOptions& options) {
  std::unique_ptr<Hub> hub;
  OSRC_RETURN_IF_ERROR(Hub::Open(dir, &hub));
  std::string outcome;
  OSRC_RETURN_IF_ERROR(ResolveConflict(*hub, options, CommandLineActor(), &outcome));
  std::cout << outcome << "\n";
  return {};
}

}  // namespace osrc::hub
