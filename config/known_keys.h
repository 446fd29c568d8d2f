// The keys a TOML configuration file may hold, and the check that refuses any other with its file,
// line and the nearest known key (a typo must not silently leave a default in force).
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace osrc::config {

// Known keys as dotted paths: "site", "hub.endpoint", "sync.window".
using KnownKeys = std::vector<std::string_view>;

extern const KnownKeys kNodeKeys;
extern const KnownKeys kHubKeys;

// The known name closest to `name` by edit distance, or empty when none is close.
std::string NearestName(std::string_view name, const std::vector<std::string_view>& known);

// Every key of `root`, at any depth, is in `known`; otherwise an error at "PATH:LINE".
Status CheckKnownKeys(const toml::table& root, const KnownKeys& known, const std::string& path);

}  // namespace osrc::config
