// The osrc-node subcommands about the node itself rather than its records: `config show`,
// `config set-hub` and `key`.
#pragma once

#include <string>

#include "base/error.h"

namespace osrc::node {

// Prints node.toml as the node reads it, defaults filled in.
Status CommandConfigShow(const std::string& dir);
// Points the node at a hub: both values checked, node.toml rewritten atomically.
Status CommandConfigSetHub(const std::string& dir, const std::string& endpoint,
                           const std::string& hub_key);
// Prints the site's public key, then how to enrol it.
Status CommandKey(const std::string& dir);

// The command that enrols `site` with `public_key` at the hub, ready to paste there.
std::string EnrolCommand(const std::string& site, const std::string& public_key);

}  // namespace osrc::node
