#include "rocksmigrate/json_migration.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "rocksmigrate/status_macros.h"
#include "src/json_parse.h"
#include "src/record_version.h"

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

namespace {

// Parses the record, applies the version rule (up: migrate below `to`,
// keep at it; down: undo at `to`, keep below it; both: keep above it
// apart), calls `transform` and stamps the version it goes to.
template <typename Fn>
absl::StatusOr<ItemResult> Rewrite(std::string_view value, int from, int to,
                                   bool down, Fn transform) {
  Json record;
  RM_RETURN_IF_ERROR(ParseJsonExactly(value, &record));
  if (!record.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("value is a JSON ", record.type_name(),
                     ", not an object"));
  }
  absl::StatusOr<int64_t> version = RecordSchemaVersion(record);
  if (!version.ok()) return version.status();
  if (*version > to) return ItemResult::KeepNewer();
  if (down ? *version < to : *version == to) return ItemResult::Keep();
  absl::Status s = transform(record);
  if (!s.ok()) return s;
  if (!record.is_object()) {
    return absl::InvalidArgumentError("the transform left a non-object value");
  }
  // Serializing recurses: a value the transform nested past the bound is an
  // item error, not a stack overflow.
  if (JsonDepth(record) > kMaxJsonDepth) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the transform left a value nested deeper than ", kMaxJsonDepth,
        " arrays and objects"));
  }
  record["schema_version"] = down ? from : to;
  // Strict UTF-8 on output: a string the transform made invalid is an error
  // (dump throws; the migrator's one catch turns it into an item error).
  return ItemResult::Write(record.dump());
}

}  // namespace

absl::Status JsonMigration::DownTransform(std::string_view /*key*/,
                                          Json& /*record*/) const {
  return absl::UnimplementedError(
      absl::StrCat("migration ", name(), " has no down transform"));
}

absl::StatusOr<ItemResult> JsonMigration::Down(std::string_view key,
                                               std::string_view value) const {
  return Rewrite(value, from(), to(), /*down=*/true,
                 [&](Json& r) { return DownTransform(key, r); });
}

absl::StatusOr<ItemResult> JsonMigration::Migrate(
    std::string_view key, std::string_view value) const {
  return Rewrite(value, from(), to(), /*down=*/false,
                 [&](Json& r) { return Transform(key, r); });
}

}  // namespace rocksmigrate
