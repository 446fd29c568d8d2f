// The OSRC schema model: collections, their owner and typed fields, and the checks every write
// passes (ids, field values, required fields). No TOML here: see schema_loader.h. Immutable
// after loading, so thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "protocol/change.h"

namespace osrc::config {

enum class Owner { kSite, kHub };
enum class FieldType { kText, kInt, kFloat, kBool, kDate, kDateTime, kEnum, kRef };

std::string_view FieldTypeName(FieldType type);

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::kText;
  bool required = false;
  bool pii = false;
  std::vector<std::string> values;  // kEnum
  std::string collection;           // kRef
};

struct CollectionSpec {
  std::string name;
  Owner owner = Owner::kSite;
  std::map<std::string, FieldSpec, std::less<>> fields;
  std::vector<std::string> field_order;  // field names as declared in the schema (CSV columns)

  const FieldSpec* Find(std::string_view field) const;
};

// Answers whether record `id` of reference collection `collection` exists.
using RefLookup = std::function<bool(std::string_view collection, std::string_view id)>;

inline constexpr size_t kMaxIdBytes = 64;
inline constexpr size_t kMaxTextBytes = 16 * 1024;

class Schema {
 public:
  Schema() = default;
  Schema(std::map<std::string, CollectionSpec, std::less<>> collections, uint64_t hash)
      : collections_(std::move(collections)), hash_(hash) {}

  const CollectionSpec* Find(std::string_view collection) const;
  const std::map<std::string, CollectionSpec, std::less<>>& collections() const {
    return collections_;
  }
  uint64_t hash() const { return hash_; }

  // The collection, or an error naming it. `writer_site`: the site writing (empty: the hub).
  Status CheckCollection(std::string_view collection, std::string_view writer_site,
                         const CollectionSpec** out) const;
  // An id: printable, at most kMaxIdBytes, and for site-owned collections "SITE-...".
  static Status CheckId(const CollectionSpec& spec, std::string_view id, std::string_view site);
  // A field's value against its type; null is always allowed here (required is checked on the
  // whole record). `refs` may be null to skip reference checks.
  static Status CheckField(const CollectionSpec& spec, const protocol::Field& field,
                           const RefLookup* refs);
  // Every required field of `spec` is set (non-null) once `fields` apply over `current`.
  // `current` names the fields already set in the record.
  static Status CheckRequired(const CollectionSpec& spec,
                              const std::vector<protocol::Field>& fields,
                              const std::function<bool(std::string_view)>& currently_set);
  // All checks a change from `site` (empty: hub) passes before it is merged.
  Status CheckChange(const protocol::Change& change, std::string_view site) const;

 private:
  std::map<std::string, CollectionSpec, std::less<>> collections_;
  uint64_t hash_ = 0;
};

// "YYYY-MM-DD", a real calendar day.
bool IsDate(std::string_view text);
// "YYYY-MM-DDThh:mm:ss[.fff]Z".
bool IsDateTime(std::string_view text);

}  // namespace osrc::config
