#include "base/version.h"

#include "base/version_info.h"

namespace osrc {

std::string VersionLine(std::string_view program) {
  return std::string(program) + " " + OSRC_VERSION + " (commit " + OSRC_COMMIT + ")";
}

}  // namespace osrc
