#include "rocksmigrate/patch_migration.h"

#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "rocksmigrate/status_macros.h"
#include "src/json_number.h"
#include "src/json_patch.h"
#include "src/json_tree.h"
#include "src/patch_migration_factory.h"

namespace rocksmigrate {
namespace {

using Type = JsonTree::Type;

// Applies `patch` to `value` under the version rule (up: patch below `to`,
// keep at it; down: patch at `to`, keep below it; both: keep above it
// apart), then stamps `stamp` (the text of the version the record goes to).
absl::StatusOr<ItemResult> ApplyPatch(std::string_view value, int to,
                                      bool down, const JsonPatch& patch,
                                      std::string_view stamp_text,
                                      const std::string& source_file) {
  // One tree per thread, reused record after record: once warm, a record
  // costs no allocation but its output.
  thread_local JsonTree tree;
  RM_RETURN_IF_ERROR(tree.Parse(value));
  if (tree.type(tree.root()) != Type::kObject) {
    return absl::InvalidArgumentError(
        absl::StrCat("value is a JSON ", JsonTree::TypeName(tree.type(tree.root())),
                     ", not an object"));
  }
  const int version = tree.FindMember(tree.root(), "schema_version");
  std::optional<int64_t> v;
  if (version != JsonTree::kNone) {
    if (tree.type(version) == Type::kNumber) v = JsonNonNegativeInteger(tree.text(version));
    if (!v) {
      return absl::InvalidArgumentError(absl::StrCat(
          "schema_version is not a non-negative integer: ",
          std::string(tree.text(version).substr(0, 80))));
    }
    if (*v > to) return ItemResult::KeepNewer();
    if (!down && *v == to) return ItemResult::Keep();
  }
  // Down: a record without a version, or below `to`, has nothing to undo.
  if (down && (!v || *v < to)) return ItemResult::Keep();
  absl::Status s = patch.Apply(&tree);
  const std::string what = down ? "down patch " : "patch ";
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        source_file.empty()
            ? absl::StrCat(what, s.message())
            : absl::StrCat(source_file, ": ", what, s.message()));
  }
  const int root = tree.root();
  if (tree.type(root) != Type::kObject) {
    return absl::InvalidArgumentError(absl::StrCat(
        source_file.empty() ? "" : absl::StrCat(source_file, ": "), "the ",
        what, "left a value that is not a JSON object"));
  }
  static constexpr std::string_view kVersionToken = "\"schema_version\"";
  const int stamp = tree.NewScalarView(Type::kNumber, stamp_text);
  // The member found before the patch, unless the patch moved it.
  const int old = version != JsonTree::kNone && tree.parent(version) == root
                      ? version
                      : tree.FindMember(root, "schema_version");
  if (old != JsonTree::kNone) {
    tree.Replace(old, stamp);
  } else {
    tree.AddMemberToken(root, kVersionToken, stamp);
  }
  return ItemResult::Write(tree.Serialize());
}

}  // namespace

class PatchMigration::Compiled {
 public:
  Compiled(JsonPatch patch, std::optional<JsonPatch> down, int to)
      : patch(std::move(patch)),
        down(std::move(down)),
        version(std::to_string(to)),
        down_version(std::to_string(to - 1)) {}
  JsonPatch patch;
  std::optional<JsonPatch> down;
  std::string version;       // The text of `to`, the stamp every record gets.
  std::string down_version;  // The text of `from`, the down patch's stamp.
};

absl::StatusOr<std::unique_ptr<PatchMigration>> PatchMigrationFactory::Make(
    int from, std::string name, std::string prefix, JsonPatch patch,
    std::optional<JsonPatch> down, std::string source_file,
    std::string checksum) {
  return std::unique_ptr<PatchMigration>(new PatchMigration(
      from, std::move(name), std::move(prefix),
      std::make_unique<PatchMigration::Compiled>(std::move(patch),
                                                 std::move(down), from + 1),
      std::move(source_file), std::move(checksum)));
}

absl::StatusOr<std::unique_ptr<PatchMigration>> PatchMigration::Create(
    int from, std::string name, std::string prefix, std::string_view patch,
    std::optional<std::string_view> down) {
  RM_ASSIGN_OR_RETURN(JsonPatch compiled, JsonPatch::Compile(patch));
  std::optional<JsonPatch> compiled_down;
  if (down) {
    absl::StatusOr<JsonPatch> d = JsonPatch::Compile(*down);
    if (!d.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("down patch: ", d.status().message()));
    }
    compiled_down = std::move(*d);
  }
  return PatchMigrationFactory::Make(from, std::move(name), std::move(prefix),
                                     std::move(compiled),
                                     std::move(compiled_down), "", "");
}

PatchMigration::PatchMigration(int from, std::string name, std::string prefix,
                               std::unique_ptr<Compiled> patch,
                               std::string source_file, std::string checksum)
    : from_(from),
      name_(std::move(name)),
      prefix_(std::move(prefix)),
      patch_(std::move(patch)),
      source_file_(std::move(source_file)),
      checksum_(std::move(checksum)) {}

PatchMigration::~PatchMigration() = default;

bool PatchMigration::has_down() const { return patch_->down.has_value(); }

absl::StatusOr<ItemResult> PatchMigration::Migrate(
    std::string_view /*key*/, std::string_view value) const {
  return ApplyPatch(value, to(), /*down=*/false, patch_->patch,
                    patch_->version, source_file_);
}

absl::StatusOr<ItemResult> PatchMigration::Down(std::string_view key,
                                                std::string_view value) const {
  if (!patch_->down) return Migration::Down(key, value);
  return ApplyPatch(value, to(), /*down=*/true, *patch_->down,
                    patch_->down_version, source_file_);
}

}  // namespace rocksmigrate
