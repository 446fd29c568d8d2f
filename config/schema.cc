#include "config/schema.h"

#include <algorithm>
#include <cstdio>

namespace osrc::config {
namespace {

bool Digits(std::string_view text, size_t from, size_t count, int* value) {
  int v = 0;
  for (size_t i = from; i < from + count; ++i) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + (text[i] - '0');
  }
  *value = v;
  return true;
}

std::string Join(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& value : values) out += (out.empty() ? "" : ", ") + value;
  return out;
}

constexpr int64_t kMillisPerDay = 86'400'000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Decodes the UTF-8 sequence at `text[*at]` and moves past it; false if it is not well-formed
// (overlong forms, surrogates and code points past U+10FFFF included).
bool NextCodePoint(std::string_view text, size_t* at, uint32_t* out) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(*at);
  size_t length = lead < 0x80           ? 1
                  : (lead >> 5) == 0x6  ? 2
                  : (lead >> 4) == 0xe  ? 3
                  : (lead >> 3) == 0x1e ? 4
                                        : 0;
  if (length == 0 || *at + length > text.size()) return false;
  uint32_t cp = length == 1 ? lead : lead & (0x7f >> length);
  for (size_t i = 1; i < length; ++i) {
    if ((byte(*at + i) & 0xc0) != 0x80) return false;
    cp = (cp << 6) | (byte(*at + i) & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[length] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
  *at += length;
  *out = cp;
  return true;
}

bool IsPrintableAscii(char c) { return c >= 0x20 && c < 0x7f; }

bool IsControl(uint32_t cp) { return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f); }
bool IsBidiControl(uint32_t cp) {
  return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

std::string CodePointName(uint32_t cp) {
  char text[16];
  std::snprintf(text, sizeof text, "U+%04X", cp);
  return text;
}

bool IsWhiteSpace(uint32_t cp) {
  return cp == 0x20 || (cp >= 0x09 && cp <= 0x0d) || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200d) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
         cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

// The bound resolved at `now_ms`, and whether it compares whole days. Nullopt: a clock bound
// without a clock.
struct ResolvedBound {
  bool days;
  int64_t value;
};
std::optional<ResolvedBound> Resolve(const DateBound& bound, FieldType type,
                                     const std::optional<int64_t>& now_ms) {
  if (bound.clock && !now_ms) return std::nullopt;
  bool days = bound.day || type == FieldType::kDate;
  int64_t value;
  if (bound.day) {
    value = bound.clock ? FloorDiv(*now_ms, kMillisPerDay) + bound.value : bound.value;
  } else {
    int64_t ms = bound.clock ? *now_ms + bound.value : bound.value;
    value = days ? FloorDiv(ms, kMillisPerDay) : ms;
  }
  return ResolvedBound{days, value};
}

Status CheckBounds(const FieldSpec& f, std::string_view text,
                   const std::optional<int64_t>& now_ms) {
  for (const DateBound* bound : {&f.min, &f.max}) {
    if (!bound->set()) continue;
    std::optional<ResolvedBound> resolved = Resolve(*bound, f.type, now_ms);
    if (!resolved) continue;
    int64_t value = f.type == FieldType::kDate ? DayOf(text) : MillisOf(text);
    if (resolved->days && f.type == FieldType::kDateTime) value = FloorDiv(value, kMillisPerDay);
    bool is_min = bound == &f.min;
    if (is_min ? value >= resolved->value : value <= resolved->value) continue;
    std::string limit = bound->text;
    if (bound->clock) {
      limit += " (" +
               (resolved->days ? DateOfDay(resolved->value) : DateTimeOfMillis(resolved->value)) +
               ")";
    }
    return {ErrorCode::kBadInput,
            QuotedForMessage(text) + (is_min ? " is before " : " is after ") + limit};
  }
  return {};
}

}  // namespace

std::string QuotedForMessage(std::string_view text) {
  std::string out = "\"";
  std::string_view head = text.substr(0, 80);
  for (size_t at = 0; at < head.size();) {
    size_t start = at;
    uint32_t cp = 0;
    if (IsPrintableAscii(head[at])) {
      out += head[at++];
    } else if (!NextCodePoint(head, &at, &cp)) {
      out += '?';
      at = start + 1;
    } else if (IsControl(cp) || IsBidiControl(cp)) {
      out += '?';
    } else {
      out.append(head.substr(start, at - start));
    }
  }
  if (text.size() > 80) out += "...";
  return out + "\"";
}

int64_t DayOf(std::string_view date) {
  int y = 0, m = 0, d = 0;
  Digits(date, 0, 4, &y);
  Digits(date, 5, 2, &m);
  Digits(date, 8, 2, &d);
  // H. Hinnant's days_from_civil.
  int64_t year = y - (m <= 2);
  int64_t era = FloorDiv(year, 400);
  int64_t yoe = year - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

int64_t MillisOf(std::string_view datetime) {
  int hour = 0, minute = 0, second = 0, fraction = 0;
  Digits(datetime, 11, 2, &hour);
  Digits(datetime, 14, 2, &minute);
  Digits(datetime, 17, 2, &second);
  if (datetime[19] == '.') {
    std::string digits(datetime.substr(20, std::min<size_t>(3, datetime.size() - 21)));
    digits.resize(3, '0');
    Digits(digits, 0, 3, &fraction);
  }
  return DayOf(datetime) * kMillisPerDay + (hour * 3600 + minute * 60 + second) * 1000LL + fraction;
}

std::string DateOfDay(int64_t day) {
  // H. Hinnant's civil_from_days.
  int64_t z = day + 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  char text[64];
  std::snprintf(text, sizeof text, "%04lld-%02lld-%02lld",
                static_cast<long long>(yoe + era * 400 + (m <= 2)), static_cast<long long>(m),
                static_cast<long long>(doy - (153 * mp + 2) / 5 + 1));
  return text;
}

std::string DateTimeOfMillis(int64_t ms) {
  int64_t second_of_day = FloorDiv(ms, 1000) - FloorDiv(ms, kMillisPerDay) * 86400;
  char text[32];
  std::snprintf(text, sizeof text, "T%02d:%02d:%02dZ", static_cast<int>(second_of_day / 3600),
                static_cast<int>(second_of_day / 60 % 60), static_cast<int>(second_of_day % 60));
  return DateOfDay(FloorDiv(ms, kMillisPerDay)) + text;
}

std::string_view SiteOfId(std::string_view id) { return id.substr(0, id.find('-')); }

Status CheckText(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    if (IsPrintableAscii(text[at])) {
      ++at;
      continue;
    }
    size_t start = at;
    uint32_t cp = 0;
    std::string position = " at byte " + std::to_string(start + 1);
    if (!NextCodePoint(text, &at, &cp)) {
      return {ErrorCode::kBadInput, "text is not valid UTF-8" + position};
    }
    if (IsControl(cp)) {
      return {ErrorCode::kBadInput, "text holds control character " + CodePointName(cp) + position};
    }
    if (IsBidiControl(cp)) {
      return {ErrorCode::kBadInput,
              "text holds bidirectional control " + CodePointName(cp) + position};
    }
  }
  return {};
}

bool IsBlank(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    uint32_t cp = 0;
    if (!NextCodePoint(text, &at, &cp) || !IsWhiteSpace(cp)) return false;
  }
  return true;
}

std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kText:
      return "text";
    case FieldType::kInt:
      return "int";
    case FieldType::kFloat:
      return "float";
    case FieldType::kBool:
      return "bool";
    case FieldType::kDate:
      return "date";
    case FieldType::kDateTime:
      return "datetime";
    case FieldType::kEnum:
      return "enum";
    case FieldType::kRef:
      return "ref";
  }
  return "?";
}

bool IsDate(std::string_view text) {
  int year, month, day;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !Digits(text, 0, 4, &year) ||
      !Digits(text, 5, 2, &month) || !Digits(text, 8, 2, &day)) {
    return false;
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) return false;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return !(month == 2 && day == 29 && !leap);
}

bool IsDateTime(std::string_view text) {
  int hour, minute, second;
  if (text.size() < 20 || text.back() != 'Z' || text[10] != 'T' || !IsDate(text.substr(0, 10)) ||
      text[13] != ':' || text[16] != ':' || !Digits(text, 11, 2, &hour) ||
      !Digits(text, 14, 2, &minute) || !Digits(text, 17, 2, &second)) {
    return false;
  }
  if (hour > 23 || minute > 59 || second > 60) return false;
  std::string_view fraction = text.substr(19, text.size() - 20);
  if (fraction.empty()) return true;
  int ignored;
  return fraction.size() >= 2 && fraction.size() <= 10 && fraction[0] == '.' &&
         Digits(fraction, 1, fraction.size() - 1, &ignored);
}

const FieldSpec* CollectionSpec::Find(std::string_view field) const {
  auto it = fields.find(field);
  return it == fields.end() ? nullptr : &it->second;
}

Schema::Schema(std::map<std::string, CollectionSpec, std::less<>> collections, uint64_t hash)
    : collections_(std::move(collections)), hash_(hash) {
  for (auto& [name, spec] : collections_) {
    spec.site_refs.clear();
    for (const auto& [field_name, field] : spec.fields) {
      if (!field.site_ref) continue;
      referenced_.insert(field.collection);
      spec.site_refs.push_back(field_name);
    }
  }
}

const CollectionSpec* Schema::Find(std::string_view collection) const {
  auto it = collections_.find(collection);
  return it == collections_.end() ? nullptr : &it->second;
}

Status Schema::CheckCollection(std::string_view collection, std::string_view writer_site,
                               const CollectionSpec** out) const {
  const CollectionSpec* spec = Find(collection);
  if (spec == nullptr) {
    return {ErrorCode::kBadInput, "unknown collection " + QuotedForMessage(collection)};
  }
  if (!writer_site.empty() && spec->owner == Owner::kHub) {
    return {ErrorCode::kForbidden, "collection " + QuotedForMessage(collection) +
                                       " is reference data, written only at the hub"};
  }
  *out = spec;
  return {};
}

Status Schema::CheckId(const CollectionSpec& spec, std::string_view id, std::string_view site) {
  if (id.empty()) return {ErrorCode::kBadInput, "empty id"};
  if (id.size() > kMaxIdBytes) return {ErrorCode::kBadInput, "id longer than 64 bytes"};
  if (spec.owner == Owner::kHub) {
    for (char c : id) {
      auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u == 0x7f) {
        return {ErrorCode::kBadInput,
                "id " + QuotedForMessage(id) + " has a space or control character"};
      }
    }
    return {};
  }
  size_t dash = id.find('-');
  std::string_view code = dash == std::string_view::npos ? std::string_view() : id.substr(0, dash);
  if (!site.empty() && code != site) {
    return {ErrorCode::kForbidden, "id " + QuotedForMessage(id) +
                                       " does not start with the site code " +
                                       QuotedForMessage(std::string(site) + "-")};
  }
  bool is_code =
      code.size() >= 2 && code.size() <= 8 && std::all_of(code.begin(), code.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      });
  if (!is_code) {
    return {ErrorCode::kBadInput,
            "id " + QuotedForMessage(id) + " does not start with a site code and \"-\""};
  }
  if (dash + 1 == id.size()) {
    return {ErrorCode::kBadInput,
            "id " + QuotedForMessage(id) + " has nothing after the site code"};
  }
  for (size_t at = dash + 1; at < id.size();) {
    size_t start = at;
    uint32_t cp = static_cast<unsigned char>(id[at]);
    if (!NextCodePoint(id, &at, &cp)) ++at;
    bool ok = (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9') ||
              cp == '-';
    if (!ok) {
      return {ErrorCode::kBadInput, "id " + QuotedForMessage(id) + " has " + CodePointName(cp) +
                                        " at byte " + std::to_string(start + 1) +
                                        ": after the site code only letters, digits and \"-\""};
    }
  }
  return {};
}

Status Schema::CheckField(const CollectionSpec& spec, std::string_view id,
                          const protocol::Field& field, const WriteChecks& checks) {
  return CheckFieldAs(spec, spec.Find(field.name), id, field, checks);
}

Status Schema::CheckFieldAs(const CollectionSpec& spec, const FieldSpec* f, std::string_view id,
                            const protocol::Field& field, const WriteChecks& checks) {
  Status status = f == nullptr ? Status(ErrorCode::kBadInput, "unknown field of " + spec.name)
                               : CheckValue(*f, id, field.value, checks);
  return status.ok() ? status : status.WithContext("field " + QuotedForMessage(field.name));
}

Status Schema::CheckValue(const FieldSpec& f, std::string_view id, const protocol::Value& value,
                          const WriteChecks& checks) {
  if (protocol::IsNull(value)) return {};
  auto wrong = [&](std::string_view expected) {
    return Status(ErrorCode::kBadInput, "expected " + std::string(expected));
  };
  switch (f.type) {
    case FieldType::kInt:
      return std::holds_alternative<int64_t>(value) ? Status() : wrong("an integer");
    case FieldType::kFloat:
      return std::holds_alternative<double>(value) ? Status() : wrong("a number");
    case FieldType::kBool:
      return std::holds_alternative<bool>(value) ? Status() : wrong("true or false");
    default:
      break;
  }
  if (!std::holds_alternative<std::string>(value)) return wrong("text");
  const std::string& text = std::get<std::string>(value);
  if (text.size() > kMaxTextBytes) return {ErrorCode::kBadInput, "text longer than 16 KiB"};
  // Control characters include NUL, which the wire encoding (Cap'n Proto Text) would cut at.
  OSRC_RETURN_IF_ERROR(CheckText(text));
  switch (f.type) {
    case FieldType::kText:
      if (f.required && IsBlank(text)) {
        return {ErrorCode::kBadInput, "required text is blank"};
      }
      if (f.equals_id_site && text != SiteOfId(id)) {
        return {ErrorCode::kBadInput, QuotedForMessage(text) + " is not the site of the id, " +
                                          QuotedForMessage(SiteOfId(id))};
      }
      break;
    case FieldType::kDate:
      if (!IsDate(text))
        return {ErrorCode::kBadInput, QuotedForMessage(text) + " is not a date YYYY-MM-DD"};
      OSRC_RETURN_IF_ERROR(CheckBounds(f, text, checks.now_ms));
      break;
    case FieldType::kDateTime:
      if (!IsDateTime(text)) {
        return {ErrorCode::kBadInput,
                QuotedForMessage(text) + " is not a UTC date-time YYYY-MM-DDThh:mm:ssZ"};
      }
      OSRC_RETURN_IF_ERROR(CheckBounds(f, text, checks.now_ms));
      break;
    case FieldType::kEnum:
      if (std::find(f.values.begin(), f.values.end(), text) == f.values.end()) {
        return {ErrorCode::kBadInput, QuotedForMessage(text) + " is not one of " + Join(f.values)};
      }
      break;
    case FieldType::kRef: {
      std::string_view site = SiteOfId(id);
      if (f.site_ref &&
          !(text.size() > site.size() && text.starts_with(site) && text[site.size()] == '-')) {
        return {ErrorCode::kBadInput, QuotedForMessage(text) + " is not a " + f.collection +
                                          " id of site " + std::string(site)};
      }
      RefState state =
          checks.refs != nullptr ? (*checks.refs)(f.collection, text) : RefState::kLive;
      if (state == RefState::kNone) {
        return {ErrorCode::kBadInput, "no " + f.collection + " record " + QuotedForMessage(text)};
      }
      if (state == RefState::kDeleted) {
        return {ErrorCode::kBadInput,
                f.collection + " record " + QuotedForMessage(text) + " is deleted"};
      }
      break;
    }
    default:
      break;
  }
  return {};
}

Status Schema::CheckRequired(const CollectionSpec& spec, const std::vector<protocol::Field>& fields,
                             const std::function<bool(std::string_view)>& currently_set) {
  for (const auto& [name, f] : spec.fields) {
    if (!f.required) continue;
    auto it =
        std::find_if(fields.begin(), fields.end(),
                     [&name = name](const protocol::Field& field) { return field.name == name; });
    bool set = it != fields.end()
                   ? !protocol::IsNull(it->value) && it->value != protocol::Value(std::string())
                   : currently_set(name);
    if (!set) {
      return {ErrorCode::kBadInput, "required field of " + spec.name + " is missing",
              "field " + QuotedForMessage(name)};
    }
  }
  return {};
}

Status Schema::CheckChange(const protocol::Change& change, std::string_view site) const {
  // The record's name, built only when the change fails a check.
  auto where = [&] { return protocol::RecordName(change.collection, change.id); };
  const CollectionSpec* spec = nullptr;
  if (Status status = CheckCollection(change.collection, site, &spec); !status.ok()) {
    return status.WithContext(where());
  }
  if (Status status = CheckId(*spec, change.id, site); !status.ok()) {
    return status.WithContext(where());
  }
  if (change.deleted) {
    for (const protocol::Field& field : change.fields) {
      if (!protocol::IsNull(field.value)) {
        return {ErrorCode::kBadMessage, "a delete carries a field value", where()};
      }
    }
  }
  // A change's fields come sorted by name, as the schema's do: walked alongside, most are found
  // without a lookup (any other is looked up, so the order is not relied on).
  auto next = spec->fields.begin();
  for (const protocol::Field& field : change.fields) {
    while (next != spec->fields.end() && next->first < field.name) ++next;
    bool found = next != spec->fields.end() && next->first == field.name;
    const FieldSpec* f = found ? &next->second : spec->Find(field.name);
    if (Status status = CheckFieldAs(*spec, f, change.id, field, WriteChecks{}); !status.ok()) {
      return status.WithContext(where());
    }
  }
  return {};
}

Status Schema::CheckMergeRefs(const protocol::Change& change, const RefLookup& refs) const {
  const CollectionSpec* spec = Find(change.collection);
  if (spec == nullptr || change.deleted || spec->site_refs.empty()) return {};
  for (const protocol::Field& field : change.fields) {
    const auto* text = std::get_if<std::string>(&field.value);
    if (text == nullptr || std::find(spec->site_refs.begin(), spec->site_refs.end(), field.name) ==
                               spec->site_refs.end()) {
      continue;
    }
    const FieldSpec* f = spec->Find(field.name);
    if (refs(f->collection, *text) == RefState::kNone) {
      return {ErrorCode::kBadInput, "no " + f->collection + " record " + QuotedForMessage(*text),
              protocol::RecordName(change.collection, change.id) + ": field " +
                  QuotedForMessage(field.name)};
    }
  }
  return {};
}

std::vector<Referrer> Schema::ReferrersOf(std::string_view collection) const {
  std::vector<Referrer> out;
  for (const auto& [name, spec] : collections_) {
    if (spec.owner != Owner::kSite) continue;
    for (const auto& [field_name, f] : spec.fields) {
      if (f.type == FieldType::kRef && f.site_ref && f.collection == collection) {
        out.push_back({name, field_name});
      }
    }
  }
  return out;
}

CollectionSpec WithoutPersonal(const CollectionSpec& spec) {
  CollectionSpec out = spec;
  std::erase_if(out.fields, [](const auto& entry) { return entry.second.pii; });
  std::erase_if(out.field_order,
                [&](const std::string& name) { return !out.fields.contains(name); });
  return out;
}

}  // namespace osrc::config
