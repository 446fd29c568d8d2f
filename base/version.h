// The line every program prints for --version: its name, the project version and the git commit
// it was built from. Thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace osrc {

// "osrc-node 0.1.0 (commit 1a2b3c4)": the commit ends in "-dirty" when the tree had uncommitted
// changes, and is "unknown" when built outside a git checkout.
std::string VersionLine(std::string_view program);

}  // namespace osrc
