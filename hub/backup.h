// Hub backups: a consistent copy of a running hub's store (with its config and keys), and the
// restore of one into a data folder under a new epoch, so sites re-offer what the restored hub
// lacks.
#pragma once

#include <string>

#include "base/error.h"

namespace osrc::hub {

Status Backup(const std::string& dir, const std::string& to);
// `*epoch_hex`: the new epoch. Refuses while a daemon runs on `dir`. Before it returns, every
// record the folder's erasure register lists (hub/erasures.h) is erased again in the restored
// store (`*erased_again` of them) and its freed pages cleared.
Status Restore(const std::string& dir, const std::string& from, std::string* epoch_hex,
               size_t* erased_again);

}  // namespace osrc::hub
