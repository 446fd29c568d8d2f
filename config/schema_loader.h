// Builds the Schema from TOML text (the shipped config/defaults/schema.toml).
#pragma once

#include <string_view>

#include "config/schema.h"

namespace osrc::config {

Status LoadSchema(std::string_view toml_text, std::string_view source, Schema* out);
// The schema shipped with the program.
const Schema& DefaultSchema();

}  // namespace osrc::config
