// Files shipped inside the programs (config/defaults/): the schema and the default reference data.
#pragma once

#include <array>
#include <string_view>

namespace osrc::config {

// Contents of the shipped file `name` (e.g. "countries.jsonl"); empty if there is none.
std::string_view DefaultFile(std::string_view name);

// Reference data files loaded at init, in this order.
inline constexpr std::array<std::string_view, 5> kReferenceFiles = {
    "service_types.jsonl", "countries.jsonl", "agencies.jsonl", "courses.jsonl",
    "localities.jsonl"};

}  // namespace osrc::config
