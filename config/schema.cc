#include "config/schema.h"

#include <algorithm>

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

std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, 80)) out += (static_cast<unsigned char>(c) < 0x20) ? '?' : c;
  if (text.size() > 80) out += "...";
  return out + "\"";
}

std::string Join(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& value : values) out += (out.empty() ? "" : ", ") + value;
  return out;
}

}  // namespace

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

const CollectionSpec* Schema::Find(std::string_view collection) const {
  auto it = collections_.find(collection);
  return it == collections_.end() ? nullptr : &it->second;
}

Status Schema::CheckCollection(std::string_view collection, std::string_view writer_site,
                               const CollectionSpec** out) const {
  const CollectionSpec* spec = Find(collection);
  if (spec == nullptr) {
    return {ErrorCode::kBadInput, "unknown collection " + Quote(collection)};
  }
  if (!writer_site.empty() && spec->owner == Owner::kHub) {
    return {ErrorCode::kForbidden,
            "collection " + Quote(collection) + " is reference data, written only at the hub"};
  }
  *out = spec;
  return {};
}

Status Schema::CheckId(const CollectionSpec& spec, std::string_view id, std::string_view site) {
  if (id.empty()) return {ErrorCode::kBadInput, "empty id"};
  if (spec.owner == Owner::kSite && !site.empty() && id.size() == site.size() + 1) {
    return {ErrorCode::kBadInput, "id \"" + std::string(id) + "\" has nothing after the site code"};
  }
  if (id.size() > kMaxIdBytes) return {ErrorCode::kBadInput, "id longer than 64 bytes"};
  for (char c : id) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return {ErrorCode::kBadInput, "id " + Quote(id) + " has a space or control character"};
    }
  }
  if (spec.owner == Owner::kSite && !site.empty()) {
    std::string prefix = std::string(site) + "-";
    if (id.substr(0, prefix.size()) != prefix) {
      return {ErrorCode::kForbidden,
              "id " + Quote(id) + " does not start with the site code " + Quote(prefix)};
    }
  }
  return {};
}

Status Schema::CheckField(const CollectionSpec& spec, const protocol::Field& field,
                          const RefLookup* refs) {
  const FieldSpec* f = spec.Find(field.name);
  std::string where = "field " + Quote(field.name);
  if (f == nullptr) {
    return {ErrorCode::kBadInput, "unknown field of " + spec.name, where};
  }
  const protocol::Value& value = field.value;
  if (protocol::IsNull(value)) return {};
  auto wrong = [&](std::string_view expected) {
    return Status(ErrorCode::kBadInput, "expected " + std::string(expected), where);
  };
  switch (f->type) {
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
  if (text.size() > kMaxTextBytes) return {ErrorCode::kBadInput, "text longer than 16 KiB", where};
  // The wire encoding (Cap'n Proto Text) would cut the text at a NUL.
  if (text.find('\0') != std::string::npos) {
    return {ErrorCode::kBadInput, "text contains a NUL character", where};
  }
  switch (f->type) {
    case FieldType::kDate:
      if (!IsDate(text))
        return {ErrorCode::kBadInput, Quote(text) + " is not a date YYYY-MM-DD", where};
      break;
    case FieldType::kDateTime:
      if (!IsDateTime(text)) {
        return {ErrorCode::kBadInput, Quote(text) + " is not a UTC date-time YYYY-MM-DDThh:mm:ssZ",
                where};
      }
      break;
    case FieldType::kEnum:
      if (std::find(f->values.begin(), f->values.end(), text) == f->values.end()) {
        return {ErrorCode::kBadInput, Quote(text) + " is not one of " + Join(f->values), where};
      }
      break;
    case FieldType::kRef:
      if (refs != nullptr && !(*refs)(f->collection, text)) {
        return {ErrorCode::kBadInput, Quote(text) + " is not a known " + f->collection + " id",
                where};
      }
      break;
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
              "field " + Quote(name)};
    }
  }
  return {};
}

Status Schema::CheckChange(const protocol::Change& change, std::string_view site) const {
  std::string where = protocol::RecordName(change.collection, change.id);
  const CollectionSpec* spec = nullptr;
  OSRC_RETURN_IF_ERROR(CheckCollection(change.collection, site, &spec).WithContext(where));
  OSRC_RETURN_IF_ERROR(CheckId(*spec, change.id, site).WithContext(where));
  if (change.deleted) {
    for (const protocol::Field& field : change.fields) {
      if (!protocol::IsNull(field.value)) {
        return {ErrorCode::kBadMessage, "a delete carries a field value", where};
      }
    }
  }
  for (const protocol::Field& field : change.fields) {
    OSRC_RETURN_IF_ERROR(CheckField(*spec, field, nullptr).WithContext(where));
  }
  return {};
}

}  // namespace osrc::config
