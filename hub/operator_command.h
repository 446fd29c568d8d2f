// `osrc-hub operator add|remove|list`: who may log in to the console. Passwords are read from
// the terminal without echo (typed twice), or as the first line of standard input when that is
// not a terminal (for scripts).
#pragma once

#include <string>

#include "base/error.h"

namespace osrc::hub {

Status CommandOperatorAdd(const std::string& dir, const std::string& name, const std::string& role);
Status CommandOperatorRemove(const std::string& dir, const std::string& name);
Status CommandOperatorList(const std::string& dir);

}  // namespace osrc::hub
