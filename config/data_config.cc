#include "config/data_config.h"

#include <pwd.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "base/text.h"
#include "config/known_keys.h"

namespace osrc::config {
namespace {

// The name of user `uid`, or its number.
std::string UserName(uid_t uid) {
  struct passwd* entry = ::getpwuid(uid);
  return entry != nullptr ? entry->pw_name : "uid " + std::to_string(uid);
}

// A data folder this process can read and write, or why not (a daemon's folder opened from
// another account is the usual case).
Status CheckFolder(const std::string& dir) {
  struct stat info;
  if (::stat(dir.c_str(), &info) != 0) {
    int error = errno;
    if (error == ENOENT) {
      return {ErrorCode::kNotFound, "no such data folder (run init first)", dir};
    }
    return {ErrorCode::kIo, std::string("cannot reach the data folder: ") + std::strerror(error),
            dir};
  }
  if (!S_ISDIR(info.st_mode)) return {ErrorCode::kBadInput, "not a folder", dir};
  if (::access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    int error = errno;
    std::string what =
        std::string("cannot read and write the data folder: ") + std::strerror(error);
    if (error == EACCES && info.st_uid != ::geteuid()) {
      what += "; it belongs to " + UserName(info.st_uid) + ": run the command as that user";
    }
    return {ErrorCode::kIo, what, dir};
  }
  return {};
}

Status Parse(const std::string& dir, std::string_view file, const KnownKeys& known,
             toml::table* out) {
  OSRC_RETURN_IF_ERROR(CheckFolder(dir));
  std::string path = dir + "/" + std::string(file);
  if (::access(path.c_str(), F_OK) != 0) {
    return {ErrorCode::kNotFound, "no such file (is this a data folder? run init first)", path};
  }
  if (::access(path.c_str(), R_OK) != 0) {
    return {ErrorCode::kIo, std::string("cannot read: ") + std::strerror(errno), path};
  }
  try {
    *out = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return {ErrorCode::kBadInput, std::string(e.description()),
            path + ":" + std::to_string(e.source().begin.line)};
  }
  return CheckKnownKeys(*out, known, path);
}

// Reads optional integer `key` of `table` into `out`, checking its range.
template <typename T>
Status ReadInt(const toml::table& table, std::string_view key, int64_t min, int64_t max, T* out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return {};
  auto value = node->value<int64_t>();
  if (!value || *value < min || *value > max) {
    return {ErrorCode::kBadInput,
            "must be an integer from " + std::to_string(min) + " to " + std::to_string(max),
            std::string(key)};
  }
  *out = static_cast<T>(*value);
  return {};
}

Status ReadLink(const toml::table& root, protocol::LinkOptions* link) {
  const toml::table* sync = root["sync"].as_table();
  if (sync == nullptr) return {};
  OSRC_RETURN_IF_ERROR(ReadInt(*sync, "batch_bytes", 1024, 8 << 20, &link->batch_bytes));
  OSRC_RETURN_IF_ERROR(ReadInt(*sync, "window", 1, 64, &link->window));
  OSRC_RETURN_IF_ERROR(ReadInt(*sync, "heartbeat_ms", 100, 600000, &link->heartbeat_ms));
  OSRC_RETURN_IF_ERROR(
      ReadInt(*sync, "heartbeat_timeout_ms", 100, 3600000, &link->heartbeat_timeout_ms));
  OSRC_RETURN_IF_ERROR(ReadInt(*sync, "reconnect_min_ms", 10, 600000, &link->reconnect_min_ms));
  OSRC_RETURN_IF_ERROR(ReadInt(*sync, "reconnect_max_ms", 10, 3600000, &link->reconnect_max_ms));
  OSRC_RETURN_IF_ERROR(
      ReadInt(*sync, "request_timeout_ms", 100, 3600000, &link->request_timeout_ms));
  OSRC_RETURN_IF_ERROR(
      ReadInt(*sync, "max_message_bytes", 65536, 1 << 30, &link->max_message_bytes));
  return {};
}

Status ReadStore(const toml::table& root, storage::EnvOptions* store) {
  const toml::table* table = root["store"].as_table();
  if (table == nullptr) return {};
  int64_t map_mb = static_cast<int64_t>(store->map_size >> 20);
  int64_t grow_mb = static_cast<int64_t>(store->grow_step >> 20);
  int64_t max_mb = static_cast<int64_t>(store->max_map_size >> 20);
  OSRC_RETURN_IF_ERROR(ReadInt(*table, "map_size_mb", 1, 1 << 24, &map_mb));
  OSRC_RETURN_IF_ERROR(ReadInt(*table, "grow_mb", 0, 1 << 24, &grow_mb));
  OSRC_RETURN_IF_ERROR(ReadInt(*table, "max_map_size_mb", 1, 1 << 24, &max_mb));
  store->map_size = static_cast<size_t>(map_mb) << 20;
  store->grow_step = static_cast<size_t>(grow_mb) << 20;
  store->max_map_size = static_cast<size_t>(max_mb) << 20;
  return {};
}

std::string Quoted(const std::string& text) {
  std::ostringstream out;
  out << toml::value<std::string>(text);
  return out.str();
}

std::string CommonToml(const protocol::LinkOptions& link, const storage::EnvOptions& store) {
  std::ostringstream out;
  out << "\n[sync]\n"
      << "batch_bytes = " << link.batch_bytes << "\n"
      << "window = " << link.window << "\n"
      << "heartbeat_ms = " << link.heartbeat_ms << "\n"
      << "heartbeat_timeout_ms = " << link.heartbeat_timeout_ms << "\n"
      << "reconnect_min_ms = " << link.reconnect_min_ms << "\n"
      << "reconnect_max_ms = " << link.reconnect_max_ms << "\n"
      << "request_timeout_ms = " << link.request_timeout_ms << "\n"
      << "max_message_bytes = " << link.max_message_bytes << "\n"
      << "\n[store]\n"
      << "map_size_mb = " << (store.map_size >> 20) << "\n"
      << "grow_mb = " << (store.grow_step >> 20) << "\n"
      << "max_map_size_mb = " << (store.max_map_size >> 20) << "\n";
  return out.str();
}

}  // namespace

bool IsTcpEndpoint(std::string_view endpoint) {
  constexpr std::string_view kScheme = "tcp://";
  if (endpoint.substr(0, kScheme.size()) != kScheme) return false;
  size_t colon = endpoint.rfind(':');
  if (colon <= kScheme.size() || colon + 1 == endpoint.size()) return false;
  std::string_view port = endpoint.substr(colon + 1);
  if (port == "*") return true;
  if (port.size() > 5) return false;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  return std::stoi(std::string(port)) <= 65535;
}

bool IsConsoleBind(std::string_view bind) {
  if (bind == "off") return true;
  size_t colon = bind.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == bind.size()) return false;
  std::string_view port = bind.substr(colon + 1);
  if (port.size() > 5) return false;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  return std::stoi(std::string(port)) <= 65535;
}

bool IsSiteCode(std::string_view code) {
  if (code.size() < 2 || code.size() > 8) return false;
  for (char c : code) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

Status LoadNodeConfig(const std::string& dir, NodeConfig* out) {
  std::string path = dir + "/" + std::string(kNodeConfigFile);
  toml::table root;
  OSRC_RETURN_IF_ERROR(Parse(dir, kNodeConfigFile, kNodeKeys, &root));
  out->site = root["site"].value_or(std::string());
  if (!IsSiteCode(out->site)) {
    return {ErrorCode::kBadInput, "site must be a code of 2 to 8 capitals or digits",
            path + ": site"};
  }
  out->hub_endpoint = root["hub"]["endpoint"].value_or(std::string());
  if (!out->hub_endpoint.empty() && !IsTcpEndpoint(out->hub_endpoint)) {
    return {ErrorCode::kBadInput, "must be tcp://HOST:PORT, e.g. tcp://10.0.0.1:7400",
            path + ": [hub] endpoint"};
  }
  out->hub_public_key = root["hub"]["public_key"].value_or(std::string());
  if (!out->hub_public_key.empty() && !IsZ85Key(out->hub_public_key)) {
    return {ErrorCode::kBadInput,
            "not a 40-character Z85 CURVE public key (copy the key osrc-hub init printed)",
            path + ": [hub] public_key"};
  }
  OSRC_RETURN_IF_ERROR(ReadLink(root, &out->link).WithContext(path + ": [sync]"));
  OSRC_RETURN_IF_ERROR(ReadStore(root, &out->store).WithContext(path + ": [store]"));
  return {};
}

Status LoadHubConfig(const std::string& dir, HubConfig* out) {
  std::string path = dir + "/" + std::string(kHubConfigFile);
  toml::table root;
  OSRC_RETURN_IF_ERROR(Parse(dir, kHubConfigFile, kHubKeys, &root));
  out->hub_id = root["hub_id"].value_or(std::string("MNL"));
  if (!IsSiteCode(out->hub_id)) {
    return {ErrorCode::kBadInput, "hub_id must be a code of 2 to 8 capitals or digits",
            path + ": hub_id"};
  }
  out->bind = root["bind"].value_or(out->bind);
  if (!IsTcpEndpoint(out->bind)) {
    return {ErrorCode::kBadInput, "must be tcp://ADDRESS:PORT, e.g. tcp://0.0.0.0:7400",
            path + ": bind"};
  }
  OSRC_RETURN_IF_ERROR(
      ReadInt(root, "max_skew_ms", 0, int64_t{1} << 40, &out->max_skew_ms).WithContext(path));
  OSRC_RETURN_IF_ERROR(
      ReadInt(root, "group_commit_max", 1, 4096, &out->group_commit_max).WithContext(path));
  OSRC_RETURN_IF_ERROR(ReadLink(root, &out->link).WithContext(path + ": [sync]"));
  OSRC_RETURN_IF_ERROR(ReadStore(root, &out->store).WithContext(path + ": [store]"));
  if (const toml::table* report = root["report"].as_table()) {
    OSRC_RETURN_IF_ERROR(
        ReadInt(*report, "k", 3, 1000, &out->report_k).WithContext(path + ": [report]"));
  }
  if (const toml::table* mirror = root["mirror"].as_table()) {
    out->mirror_pii = (*mirror)["pii"].value_or(out->mirror_pii);
    if (out->mirror_pii != "omit" && out->mirror_pii != "pseudonymise" &&
        out->mirror_pii != "include") {
      return {ErrorCode::kBadInput, "must be \"omit\", \"pseudonymise\" or \"include\"",
              path + ": [mirror] pii"};
    }
  }
  if (const toml::table* retention = root["retention"].as_table()) {
    for (const auto& [key, node] : *retention) {
      std::string where = path + ": [retention] " + std::string(key.str());
      std::optional<std::string> text = node.value<std::string>();
      RetentionPeriod period;
      if (!text || !ParseRetentionPeriod(*text, &period)) {
        return {ErrorCode::kBadInput,
                "must be a period of whole years, months or days, e.g. \"10y\", \"18m\" or "
                "\"400d\"",
                where};
      }
      out->retention[std::string(key.str())] = *text;
    }
  }
  if (const toml::table* console = root["console"].as_table()) {
    out->console_bind = (*console)["bind"].value_or(out->console_bind);
    if (!IsConsoleBind(out->console_bind)) {
      return {ErrorCode::kBadInput, "must be HOST:PORT (e.g. 127.0.0.1:7480) or \"off\"",
              path + ": [console] bind"};
    }
  }
  return {};
}

bool ParseRetentionPeriod(std::string_view text, RetentionPeriod* out) {
  if (text.size() < 2 || text.size() > 6) return false;
  int number = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return false;
    number = number * 10 + (c - '0');
  }
  *out = {};
  switch (text.back()) {  // up to 200 years
    case 'y':
      out->years = number;
      return number >= 1 && number <= 200;
    case 'm':
      out->months = number;
      return number >= 1 && number <= 200 * 12;
    case 'd':
      out->days = number;
      return number >= 1 && number <= 200 * 366;
  }
  return false;
}

std::string NodeConfigToml(const NodeConfig& config) {
  std::ostringstream out;
  out << "# osrc-node configuration of site " << config.site << "\n"
      << "site = " << Quoted(config.site) << "\n\n[hub]\n"
      << "endpoint = " << Quoted(config.hub_endpoint) << "\n"
      << "public_key = " << Quoted(config.hub_public_key) << "\n"
      << CommonToml(config.link, config.store);
  return out.str();
}

std::string HubConfigToml(const HubConfig& config) {
  std::ostringstream out;
  out << "# osrc-hub configuration\n"
      << "hub_id = " << Quoted(config.hub_id) << "\n"
      << "bind = " << Quoted(config.bind) << "\n"
      << "max_skew_ms = " << config.max_skew_ms << "\n"
      << "group_commit_max = " << config.group_commit_max << "\n"
      << CommonToml(config.link, config.store) << "\n[report]\n"
      << "# published counts from 1 to k-1 are suppressed (k at least 3)\n"
      << "k = " << config.report_k << "\n\n[console]\n"
      << "# the web console's HOST:PORT, or \"off\"; loopback only unless behind a TLS proxy\n"
      << "bind = " << Quoted(config.console_bind) << "\n\n[retention]\n"
      << "# how long site records are kept after the last activity of whom they belong to\n"
      << "# (osrc-hub retention), e.g. participants = \"10y\", services = \"5y\"; none: kept\n";
  for (const auto& [collection, period] : config.retention) {
    out << collection << " = " << Quoted(period) << "\n";
  }
  return out.str();
}

}  // namespace osrc::config
