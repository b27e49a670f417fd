#include "rocksmigrate/json_migration.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace rocksmigrate {

absl::StatusOr<int64_t> RecordSchemaVersion(const Json& record) {
  auto it = record.find("schema_version");
  if (it == record.end()) return -1;
  if (it->is_number_unsigned()) {
    // Above INT64_MAX the cast would wrap to a negative number, which reads
    // as "absent": a record claiming a huge version would be migrated.
    const uint64_t v = it->get<uint64_t>();
    return static_cast<int64_t>(
        std::min<uint64_t>(v, std::numeric_limits<int64_t>::max()));
  }
  if (it->is_number_integer()) {
    int64_t v = it->get<int64_t>();
    if (v >= 0) return v;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("schema_version is not a non-negative integer: ",
                   it->dump()));
}

absl::StatusOr<ItemResult> JsonMigration::Migrate(
    std::string_view key, std::string_view value) const {
  // nlohmann's lexer takes a NUL byte for the end of the input, so
  // `{"a":1}\0<more bytes>` would parse and be rewritten without its tail.
  // No JSON text holds a raw NUL.
  if (value.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "value is not valid JSON (it holds a NUL byte)");
  }
  Json record = Json::parse(value.begin(), value.end(), nullptr,
                            /*allow_exceptions=*/false);
  if (record.is_discarded()) {
    return absl::InvalidArgumentError("value is not valid JSON");
  }
  if (!record.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("value is a JSON ", record.type_name(),
                     ", not an object"));
  }
  absl::StatusOr<int64_t> version = RecordSchemaVersion(record);
  if (!version.ok()) return version.status();
  if (*version >= to()) return ItemResult::Keep();
  absl::Status s = Transform(key, record);
  if (!s.ok()) return s;
  if (!record.is_object()) {
    return absl::InvalidArgumentError("the transform left a non-object value");
  }
  record["schema_version"] = to();
  // Strict UTF-8 on output: a string the transform made invalid is an error.
  return ItemResult::Write(record.dump());
}

}  // namespace rocksmigrate
