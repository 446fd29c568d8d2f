// The OSRC schema model: collections, their owner and typed fields, and the checks every write
// passes (ids, text, field values and their bounds, references, required fields). No TOML here:
// see schema_loader.h. Immutable after loading, so thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "protocol/change.h"

namespace osrc::config {

enum class Owner { kSite, kHub };
enum class FieldType { kText, kInt, kFloat, kBool, kDate, kDateTime, kEnum, kRef };

std::string_view FieldTypeName(FieldType type);

// A bound of a date or datetime field, as the schema writes it: a fixed day ("1900-01-01"), a
// fixed instant ("2020-01-01T00:00:00Z", datetime fields), or relative to the clock ("today",
// "now", either with "+Nd" or "-Nd"). A day bound ("1900-01-01", "today") compares whole days;
// an instant bound ("now+1d") compares to the millisecond on datetime fields.
struct DateBound {
  std::string text;    // as written; empty: no bound
  bool day = true;     // a day, not an instant
  bool clock = false;  // relative to the clock: `value` is an offset
  int64_t value = 0;   // day number since 1970-01-01, or milliseconds (offsets alike)

  bool set() const { return !text.empty(); }
};

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::kText;
  bool required = false;
  bool pii = false;
  std::vector<std::string> values;  // kEnum
  std::string collection;           // kRef
  bool site_ref = false;            // kRef to a site-owned collection: a record of the same site
  bool equals_id_site = false;      // `equals = "id_site"`: the site code of the record's id
  DateBound min, max;               // kDate, kDateTime
};

struct CollectionSpec {
  std::string name;
  Owner owner = Owner::kSite;
  std::map<std::string, FieldSpec, std::less<>> fields;
  std::vector<std::string> field_order;  // field names as declared in the schema (CSV columns)
  std::vector<std::string> site_refs;    // names of its site_ref fields (set by Schema)

  const FieldSpec* Find(std::string_view field) const;
};

// What a store holds for a referenced record.
enum class RefState { kNone, kDeleted, kLive };
// Looks up record `id` of `collection` (the target of a ref field).
using RefLookup = std::function<RefState(std::string_view collection, std::string_view id)>;

// What the checks of a write consult beyond the schema and the record.
struct WriteChecks {
  // Null: references are not looked up. Local writes refuse a reference unless kLive.
  const RefLookup* refs = nullptr;
  // Null: clock-relative bounds ("today", "now+1d") are skipped, as at the hub's merge: a site
  // whose clock was right when it wrote must not be refused later.
  std::optional<int64_t> now_ms;
};

// A ref field of a site-owned collection that points at site-owned records.
struct Referrer {
  std::string collection;
  std::string field;
};

inline constexpr size_t kMaxIdBytes = 64;
inline constexpr size_t kMaxTextBytes = 16 * 1024;

class Schema {
 public:
  Schema() = default;
  Schema(std::map<std::string, CollectionSpec, std::less<>> collections, uint64_t hash);

  const CollectionSpec* Find(std::string_view collection) const;
  const std::map<std::string, CollectionSpec, std::less<>>& collections() const {
    return collections_;
  }
  uint64_t hash() const { return hash_; }

  // The collection, or an error naming it. `writer_site`: the site writing (empty: the hub).
  Status CheckCollection(std::string_view collection, std::string_view writer_site,
                         const CollectionSpec** out) const;
  // An id: at most kMaxIdBytes; printable, without spaces; for site-owned collections the site
  // code (`site` if not empty), "-", then letters, digits and "-" only.
  static Status CheckId(const CollectionSpec& spec, std::string_view id, std::string_view site);
  // A field's value of record `id` against its type, text rules, bounds, `equals` and
  // references; null is always allowed here (required is checked on the whole record).
  static Status CheckField(const CollectionSpec& spec, std::string_view id,
                           const protocol::Field& field, const WriteChecks& checks);
  // As CheckField, with the field's spec `f` found already (null: not in the schema).
  static Status CheckFieldAs(const CollectionSpec& spec, const FieldSpec* f, std::string_view id,
                             const protocol::Field& field, const WriteChecks& checks);
  // As CheckField, for a value of field `spec`; the error does not name the field.
  static Status CheckValue(const FieldSpec& spec, std::string_view id, const protocol::Value& value,
                           const WriteChecks& checks);
  // Every required field of `spec` is set (non-null) once `fields` apply over `current`.
  // `current` names the fields already set in the record.
  static Status CheckRequired(const CollectionSpec& spec,
                              const std::vector<protocol::Field>& fields,
                              const std::function<bool(std::string_view)>& currently_set);
  // All checks a change from `site` (empty: hub) passes before it is merged, without a store or
  // clock: clock-relative bounds and reference lookups are not among them.
  Status CheckChange(const protocol::Change& change, std::string_view site) const;
  // The references of `change` to site-owned records, at merge: refused only if `refs` answers
  // kNone (never seen); a deleted record is accepted, since its site wrote in good faith.
  Status CheckMergeRefs(const protocol::Change& change, const RefLookup& refs) const;
  // The ref fields of site-owned collections that point at `collection`.
  std::vector<Referrer> ReferrersOf(std::string_view collection) const;
  // Whether site refs point at `collection` (participants, trainings).
  bool IsReferenced(std::string_view collection) const {
    return referenced_.find(collection) != referenced_.end();
  }

 private:
  std::map<std::string, CollectionSpec, std::less<>> collections_;
  uint64_t hash_ = 0;
  std::set<std::string, std::less<>> referenced_;  // targets of site refs
};

// `spec` without its personal fields (pii): what an export shows by default.
CollectionSpec WithoutPersonal(const CollectionSpec& spec);

// "YYYY-MM-DD", a real calendar day.
bool IsDate(std::string_view text);
// "YYYY-MM-DDThh:mm:ss[.fff]Z".
bool IsDateTime(std::string_view text);
// Days since 1970-01-01 of a date, milliseconds of a datetime. REQUIRES: IsDate / IsDateTime.
int64_t DayOf(std::string_view date);
int64_t MillisOf(std::string_view datetime);
std::string DateOfDay(int64_t day);
std::string DateTimeOfMillis(int64_t ms);
// The site code of a site-owned record's id: what comes before the first "-".
std::string_view SiteOfId(std::string_view id);
// Text holds valid UTF-8 without control characters (C0, DEL, C1) or bidirectional overrides
// and isolates (U+202A-U+202E, U+2066-U+2069); the error names the first (`U+202E at byte 7`).
Status CheckText(std::string_view text);
// Empty, or only white space.
bool IsBlank(std::string_view text);
// The text in quotes for a message: at most 80 bytes, control and bidirectional characters and
// bytes that are not UTF-8 shown as "?", so a message never carries them to a terminal.
std::string QuotedForMessage(std::string_view text);

}  // namespace osrc::config
