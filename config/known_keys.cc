#include "config/known_keys.h"

#include <algorithm>

namespace osrc::config {
namespace {

// The [sync] and [store] tables both files share.
KnownKeys WithLinkAndStore(KnownKeys keys) {
  for (std::string_view key :
       {"sync.batch_bytes", "sync.window", "sync.heartbeat_ms", "sync.heartbeat_timeout_ms",
        "sync.reconnect_min_ms", "sync.reconnect_max_ms", "sync.request_timeout_ms",
        "sync.max_message_bytes", "store.map_size_mb", "store.grow_mb", "store.max_map_size_mb"}) {
    keys.push_back(key);
  }
  return keys;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

Status CheckTable(const toml::table& table, const std::string& prefix, const KnownKeys& known,
                  const std::string& path) {
  for (const auto& [key, node] : table) {
    std::string dotted =
        prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    bool is_table = node.is_table();
    bool found = false, names_table = false;
    for (std::string_view k : known) {
      if (is_table ? k.starts_with(dotted + ".") : k == dotted) found = true;
      if (k.starts_with(dotted + ".")) names_table = true;
    }
    uint32_t line = key.source().begin.line;
    std::string where = path + (line > 0 ? ":" + std::to_string(line) : "");
    if (!found && names_table) {
      return {ErrorCode::kBadInput, "\"" + dotted + "\" must be a table, [" + dotted + "]", where};
    }
    if (found) {
      if (is_table) OSRC_RETURN_IF_ERROR(CheckTable(*node.as_table(), dotted, known, path));
      continue;
    }
    // Suggest among the names that could stand at this place: keys of this table and tables.
    std::vector<std::string_view> here;
    for (std::string_view k : known) {
      std::string_view rest = k;
      if (!prefix.empty()) {
        if (!k.starts_with(prefix + ".")) continue;
        rest = k.substr(prefix.size() + 1);
      }
      here.push_back(rest.substr(0, rest.find('.')));
    }
    std::string message = "unknown " + std::string(is_table ? "table" : "key") + " \"" +
                          std::string(key.str()) + "\"";
    if (!prefix.empty()) message += " in [" + prefix + "]";
    std::string nearest = NearestName(key.str(), here);
    if (!nearest.empty()) message += "; did you mean \"" + nearest + "\"?";
    return {ErrorCode::kBadInput, message, where};
  }
  return {};
}

}  // namespace

const KnownKeys kNodeKeys = WithLinkAndStore({"site", "hub.endpoint", "hub.public_key"});
const KnownKeys kHubKeys =
    WithLinkAndStore({"hub_id", "bind", "max_skew_ms", "group_commit_max", "report.k", "mirror.pii",
                      "console.bind", "retention.participants", "retention.services",
                      "retention.referrals", "retention.trainings", "retention.attendance"});

std::string NearestName(std::string_view name, const std::vector<std::string_view>& known) {
  std::string_view best;
  size_t best_distance = SIZE_MAX;
  for (std::string_view candidate : known) {
    size_t distance = EditDistance(name, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  // Close means fewer edits than half the name: "windw" finds "window", "colour" finds nothing.
  if (best.empty() || best_distance * 2 > std::max(name.size(), best.size())) return {};
  return std::string(best);
}

Status CheckKnownKeys(const toml::table& root, const KnownKeys& known, const std::string& path) {
  return CheckTable(root, "", known, path);
}

}  // namespace osrc::config
