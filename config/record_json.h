// JSON form of records: the `{"collection":..,"id":..,"fields":{..}}` lines of import and export,
// and `--json` field objects, converted to checked fields. Thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/schema.h"
#include "protocol/change.h"

namespace osrc::config {

struct JsonRecord {
  std::string collection;
  std::string id;
  std::vector<protocol::Field> fields;  // sorted by name; null values unset
};

// Parses a field object (`{"sex":"F",...}`) of record `id`, typing values by `spec`. Checks
// duplicate keys, types, enums, text, bounds and references (as `checks` allow); not required
// fields.
Status ParseFields(const CollectionSpec& spec, std::string_view id, std::string_view json,
                   const WriteChecks& checks, std::vector<protocol::Field>* out);
// Parses one import line and checks duplicate keys, collection, id (for `site`; empty at the
// hub) and fields.
Status ParseRecordLine(const Schema& schema, std::string_view line, std::string_view site,
                       const WriteChecks& checks, JsonRecord* out);

// One export line, fields sorted by name, null fields left out.
struct FieldValue {
  std::string_view name;
  const protocol::Value* value;
};
std::string RecordLine(std::string_view collection, std::string_view id,
                       const std::vector<FieldValue>& fields);
std::string ValueJson(const protocol::Value& value);

}  // namespace osrc::config
