#include "config/record_json.h"

#include <nlohmann/json.hpp>
#include <set>

namespace osrc::config {
namespace {

using nlohmann::json;

Status ToValue(const FieldSpec& spec, const json& in, protocol::Value* out) {
  std::string where = "field \"" + spec.name + "\"";
  switch (in.type()) {
    case json::value_t::null:
      *out = std::monostate{};
      return {};
    case json::value_t::boolean:
      *out = in.get<bool>();
      return {};
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      if (spec.type == FieldType::kFloat) {
        *out = in.get<double>();
      } else if (in.is_number_unsigned() && in.get<uint64_t>() > INT64_MAX) {
        return {ErrorCode::kBadInput, "integer out of range", where};
      } else {
        *out = in.get<int64_t>();
      }
      return {};
    case json::value_t::number_float:
      *out = in.get<double>();
      return {};
    case json::value_t::string:
      *out = in.get<std::string>();
      return {};
    default:
      return {ErrorCode::kBadInput, "expected a value, not an object or array", where};
  }
}

// Parses `text` as JSON. nlohmann keeps the last of two equal keys silently: the parser callback
// counts the keys of each object, and an object holding fewer than it was given named one twice.
// Only then is the text parsed again to name the key (`duplicate key "sex"`). The error comes
// after the whole text parsed, so the caller can name the record.
Status ParseJson(std::string_view text, json* out, std::string* duplicate) {
  std::vector<size_t> key_counts;  // of the objects open
  bool repeated = false;
  auto count = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      key_counts.push_back(0);
    } else if (event == json::parse_event_t::key) {
      ++key_counts.back();
    } else if (event == json::parse_event_t::object_end) {
      repeated = repeated || parsed.size() != key_counts.back();
      key_counts.pop_back();
    }
    return true;
  };
  *out = json::parse(text, count, /*allow_exceptions=*/false);
  if (out->is_discarded()) return {ErrorCode::kBadInput, "malformed JSON"};
  duplicate->clear();
  if (!repeated) return {};
  std::vector<std::set<std::string, std::less<>>> open_objects;
  auto name = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      open_objects.pop_back();
    } else if (event == json::parse_event_t::key) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second && duplicate->empty()) *duplicate = key;
    }
    return true;
  };
  // Parsed once already, so valid: this pass only names the key.
  if (json::parse(text, name, /*allow_exceptions=*/false).is_discarded()) {
    return {ErrorCode::kBadInput, "malformed JSON"};
  }
  return {};
}

Status DuplicateKey(const std::string& key) {
  return {ErrorCode::kBadInput,
          "duplicate key " + json(key).dump(-1, ' ', false, json::error_handler_t::replace)};
}

Status FieldsFromJson(const CollectionSpec& spec, std::string_view id, const json& object,
                      const WriteChecks& checks, std::vector<protocol::Field>* out) {
  if (!object.is_object()) return {ErrorCode::kBadInput, "\"fields\" is not an object"};
  out->clear();
  out->reserve(object.size());
  for (const auto& [name, value] : object.items()) {  // nlohmann keeps keys sorted
    const FieldSpec* field_spec = spec.Find(name);
    if (field_spec == nullptr) {
      return {ErrorCode::kBadInput, "unknown field of " + spec.name, "field \"" + name + "\""};
    }
    protocol::Field& field = out->emplace_back();
    field.name = name;
    OSRC_RETURN_IF_ERROR(ToValue(*field_spec, value, &field.value));
    OSRC_RETURN_IF_ERROR(Schema::CheckField(spec, id, field, checks));
  }
  return {};
}

void AppendEscaped(std::string* out, std::string_view text) {
  out->append(json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace

Status ParseFields(const CollectionSpec& spec, std::string_view id, std::string_view text,
                   const WriteChecks& checks, std::vector<protocol::Field>* out) {
  json object;
  std::string duplicate;
  OSRC_RETURN_IF_ERROR(ParseJson(text, &object, &duplicate));
  if (!duplicate.empty()) return DuplicateKey(duplicate);
  return FieldsFromJson(spec, id, object, checks, out);
}

Status ParseRecordLine(const Schema& schema, std::string_view line, std::string_view site,
                       const WriteChecks& checks, JsonRecord* out) {
  json object;
  std::string duplicate;
  OSRC_RETURN_IF_ERROR(ParseJson(line, &object, &duplicate));
  if (!object.is_object()) return {ErrorCode::kBadInput, "not a JSON object"};
  auto collection = object.find("collection");
  auto id = object.find("id");
  if (!duplicate.empty()) {
    bool named = collection != object.end() && collection->is_string() && id != object.end() &&
                 id->is_string();
    return DuplicateKey(duplicate).WithContext(
        named ? protocol::RecordName(collection->get<std::string>(), id->get<std::string>()) : "");
  }
  for (const auto& [key, value] : object.items()) {
    if (key != "collection" && key != "id" && key != "fields") {
      return {ErrorCode::kBadInput, "unknown key \"" + key + "\""};
    }
  }
  auto fields = object.find("fields");
  if (collection == object.end() || !collection->is_string()) {
    return {ErrorCode::kBadInput, "\"collection\" missing or not text"};
  }
  if (id == object.end() || !id->is_string()) {
    return {ErrorCode::kBadInput, "\"id\" missing or not text"};
  }
  if (fields == object.end()) return {ErrorCode::kBadInput, "\"fields\" missing"};
  out->collection = collection->get<std::string>();
  out->id = id->get<std::string>();
  const CollectionSpec* spec = nullptr;
  OSRC_RETURN_IF_ERROR(schema.CheckCollection(out->collection, site, &spec));
  OSRC_RETURN_IF_ERROR(schema.CheckId(*spec, out->id, site));
  return FieldsFromJson(*spec, out->id, *fields, checks, &out->fields)
      .WithContext(protocol::RecordName(out->collection, out->id));
}

std::string ValueJson(const protocol::Value& value) {
  std::string out;
  switch (value.index()) {
    case 0:
      return "null";
    case 1:
      return std::get<bool>(value) ? "true" : "false";
    case 2:
      return std::to_string(std::get<int64_t>(value));
    case 3:
      return json(std::get<double>(value)).dump();
    case 4:
      AppendEscaped(&out, std::get<std::string>(value));
      return out;
  }
  return "null";
}

std::string RecordLine(std::string_view collection, std::string_view id,
                       const std::vector<FieldValue>& fields) {
  std::string out = "{\"collection\":";
  AppendEscaped(&out, collection);
  out += ",\"id\":";
  AppendEscaped(&out, id);
  out += ",\"fields\":{";
  bool first = true;
  for (const FieldValue& field : fields) {
    if (protocol::IsNull(*field.value)) continue;
    if (!first) out += ',';
    first = false;
    AppendEscaped(&out, field.name);
    out += ':';
    out += ValueJson(*field.value);
  }
  out += "}}";
  return out;
}

}  // namespace osrc::config
