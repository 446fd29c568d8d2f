// A data folder: one per site node or hub, holding its TOML config, keys and LMDB files, readable
// by its owner only.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace osrc::replica {

// Where the Debian package's services keep their data folders; hints for the other side of a
// link name these, as the reader's own folder is not known here.
inline constexpr std::string_view kPackageNodeDir = "/var/lib/osrc/node";
inline constexpr std::string_view kPackageHubDir = "/var/lib/osrc/hub";

// Creates `dir` (mode 0700) for a new node or hub; refuses when it already holds one.
Status CreateDataFolder(const std::string& dir, std::string_view config_file);
// Writes `<dir>/<name>` (mode 0600) durably: a whole new file or the old one, never a mix.
Status WriteFileDurably(const std::string& dir, std::string_view name, const std::string& content);
// Copies `<from_dir>/<name>` to `<to_dir>` durably, reading it under a shared flock so appenders
// (who lock it exclusively) wait; nothing to copy if it does not exist. `what` names it in errors.
Status CopyLockedFile(const std::string& from_dir, const std::string& to_dir, std::string_view name,
                      std::string_view what);
// `--data` or $OSRC_DATA; an error when neither is set.
Status ResolveDataDir(const std::string& flag, std::string* dir);

}  // namespace osrc::replica
