#include "config/schema_loader.h"

#include <toml++/toml.h>

#include <algorithm>

#include "config/defaults.h"

namespace osrc::config {
namespace {

// "YYYY-MM-DD", "YYYY-MM-DDThh:mm:ssZ" (datetime fields), or "today" / "now" with an optional
// "+Nd" / "-Nd".
Status ParseBound(const std::string& text, FieldType type, DateBound* out) {
  out->text = text;
  auto bad = [&] {
    return Status(ErrorCode::kBadInput,
                  "bound \"" + text +
                      "\" is not a date, a datetime, or today/now with an optional +Nd or -Nd");
  };
  if (IsDate(text)) {
    out->value = DayOf(text);
    return {};
  }
  if (IsDateTime(text) && type == FieldType::kDateTime) {
    out->day = false;
    out->value = MillisOf(text);
    return {};
  }
  std::string_view rest = text;
  if (rest.starts_with("today")) {
    rest.remove_prefix(5);
  } else if (rest.starts_with("now")) {
    out->day = false;
    rest.remove_prefix(3);
  } else {
    return bad();
  }
  out->clock = true;
  if (rest.empty()) return {};
  if (rest.size() < 3 || (rest[0] != '+' && rest[0] != '-') || rest.back() != 'd') return bad();
  int64_t days = 0;
  for (char c : rest.substr(1, rest.size() - 2)) {
    if (c < '0' || c > '9' || days > 100'000) return bad();
    days = days * 10 + (c - '0');
  }
  if (rest[0] == '-') days = -days;
  out->value = out->day ? days : days * 86'400'000;
  return {};
}

Status ParseField(std::string_view name, const toml::table& table, FieldSpec* out) {
  out->name = name;
  std::string type = table["type"].value_or(std::string());
  static const std::map<std::string, FieldType, std::less<>> kTypes = {
      {"text", FieldType::kText}, {"int", FieldType::kInt},   {"float", FieldType::kFloat},
      {"bool", FieldType::kBool}, {"date", FieldType::kDate}, {"datetime", FieldType::kDateTime},
      {"enum", FieldType::kEnum}, {"ref", FieldType::kRef}};
  auto it = kTypes.find(type);
  if (it == kTypes.end()) return {ErrorCode::kBadInput, "unknown type \"" + type + "\""};
  out->type = it->second;
  out->required = table["required"].value_or(false);
  out->pii = table["pii"].value_or(false);
  if (out->type == FieldType::kEnum) {
    const toml::array* values = table["values"].as_array();
    if (values == nullptr || values->empty()) return {ErrorCode::kBadInput, "enum without values"};
    for (const auto& v : *values) out->values.push_back(v.value_or(std::string()));
  }
  if (out->type == FieldType::kRef) {
    out->collection = table["collection"].value_or(std::string());
    if (out->collection.empty()) return {ErrorCode::kBadInput, "ref without collection"};
  }
  if (const toml::node* equals = table.get("equals")) {
    if (equals->value_or(std::string()) != "id_site" || out->type != FieldType::kText) {
      return {ErrorCode::kBadInput, "equals must be \"id_site\", on a text field"};
    }
    out->equals_id_site = true;
  }
  for (auto [key, bound] : {std::pair{"min", &out->min}, std::pair{"max", &out->max}}) {
    const toml::node* node = table.get(key);
    if (node == nullptr) continue;
    if (out->type != FieldType::kDate && out->type != FieldType::kDateTime) {
      return {ErrorCode::kBadInput,
              std::string(key) + " on a field that is not a date or datetime"};
    }
    OSRC_RETURN_IF_ERROR(
        ParseBound(node->value_or(std::string()), out->type, bound).WithContext(key));
  }
  return {};
}

uint64_t Fnv1a(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return hash;
}

}  // namespace

Status LoadSchema(std::string_view toml_text, std::string_view source, Schema* out) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    return {ErrorCode::kBadInput, std::string(e.description()),
            std::string(source) + ":" + std::to_string(e.source().begin.line)};
  }
  const toml::table* collections = root["collections"].as_table();
  if (collections == nullptr)
    return {ErrorCode::kBadInput, "no [collections]", std::string(source)};
  std::map<std::string, CollectionSpec, std::less<>> specs;
  for (const auto& [key, node] : *collections) {
    std::string name(key.str());
    std::string where = std::string(source) + ": collection " + name;
    const toml::table* table = node.as_table();
    if (table == nullptr) return {ErrorCode::kBadInput, "not a table", where};
    CollectionSpec spec;
    spec.name = name;
    std::string owner = (*table)["owner"].value_or(std::string());
    if (owner != "site" && owner != "hub") {
      return {ErrorCode::kBadInput, "owner must be \"site\" or \"hub\"", where};
    }
    spec.owner = owner == "site" ? Owner::kSite : Owner::kHub;
    const toml::table* fields = (*table)["fields"].as_table();
    if (fields == nullptr) return {ErrorCode::kBadInput, "no fields", where};
    // toml++ tables are sorted maps: the declaration order comes from source positions.
    std::vector<std::pair<toml::source_position, std::string>> declared;
    for (const auto& [field_key, field_node] : *fields) {
      declared.emplace_back(field_node.source().begin, std::string(field_key.str()));
      const toml::table* field_table = field_node.as_table();
      FieldSpec field;
      if (field_table == nullptr) return {ErrorCode::kBadInput, "field is not a table", where};
      OSRC_RETURN_IF_ERROR(ParseField(field_key.str(), *field_table, &field)
                               .WithContext(where + ": field " + std::string(field_key.str())));
      spec.fields.emplace(field.name, std::move(field));
    }
    std::sort(declared.begin(), declared.end());
    for (auto& [position, field_name] : declared) spec.field_order.push_back(std::move(field_name));
    specs.emplace(name, std::move(spec));
  }
  for (const auto& [name, spec] : specs) {
    for (const auto& [field_name, field] : spec.fields) {
      if (field.type == FieldType::kRef && specs.count(field.collection) == 0) {
        return {ErrorCode::kBadInput, "ref to unknown collection " + field.collection,
                std::string(source) + ": " + name + "." + field_name};
      }
    }
  }
  // A ref from a site-owned collection to another names a record of the same site.
  for (auto& [name, spec] : specs) {
    for (auto& [field_name, field] : spec.fields) {
      field.site_ref = field.type == FieldType::kRef && spec.owner == Owner::kSite &&
                       specs.at(field.collection).owner == Owner::kSite;
    }
  }
  *out = Schema(std::move(specs), Fnv1a(toml_text));
  return {};
}

const Schema& DefaultSchema() {
  static const Schema schema = [] {
    Schema loaded;
    Status status = LoadSchema(DefaultFile("schema.toml"), "schema.toml", &loaded);
    if (!status.ok()) throw Error(ErrorCode::kInternal, "shipped schema: " + status.ToString());
    return loaded;
  }();
  return schema;
}

}  // namespace osrc::config
