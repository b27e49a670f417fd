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

}  // namespace

class PatchMigration::Compiled {
 public:
  Compiled(JsonPatch patch, int to)
      : patch(std::move(patch)), version(std::to_string(to)) {}
  JsonPatch patch;
  std::string version;  // The text of `to`, the stamp every record gets.
};

absl::StatusOr<std::unique_ptr<PatchMigration>> PatchMigrationFactory::Make(
    int from, std::string name, std::string prefix, JsonPatch patch,
    std::string source_file, std::string checksum) {
  return std::unique_ptr<PatchMigration>(new PatchMigration(
      from, std::move(name), std::move(prefix),
      std::make_unique<PatchMigration::Compiled>(std::move(patch), from + 1),
      std::move(source_file), std::move(checksum)));
}

absl::StatusOr<std::unique_ptr<PatchMigration>> PatchMigration::Create(
    int from, std::string name, std::string prefix, std::string_view patch) {
  RM_ASSIGN_OR_RETURN(JsonPatch compiled, JsonPatch::Compile(patch));
  return PatchMigrationFactory::Make(from, std::move(name), std::move(prefix),
                                     std::move(compiled), "", "");
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

absl::StatusOr<ItemResult> PatchMigration::Migrate(
    std::string_view key, std::string_view value) const {
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
  if (version != JsonTree::kNone) {
    std::optional<int64_t> v;
    if (tree.type(version) == Type::kNumber) v = JsonNonNegativeInteger(tree.text(version));
    if (!v) {
      return absl::InvalidArgumentError(absl::StrCat(
          "schema_version is not a non-negative integer: ",
          std::string(tree.text(version).substr(0, 80))));
    }
    if (*v > to()) return ItemResult::KeepNewer();
    if (*v == to()) return ItemResult::Keep();
  }
  absl::Status s = patch_->patch.Apply(&tree);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        source_file_.empty()
            ? absl::StrCat("patch ", s.message())
            : absl::StrCat(source_file_, ": patch ", s.message()));
  }
  const int root = tree.root();
  if (tree.type(root) != Type::kObject) {
    return absl::InvalidArgumentError(absl::StrCat(
        source_file_.empty() ? "" : absl::StrCat(source_file_, ": "),
        "the patch left a value that is not a JSON object"));
  }
  static constexpr std::string_view kVersionToken = "\"schema_version\"";
  const int stamp = tree.NewScalarView(Type::kNumber, patch_->version);
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

}  // namespace rocksmigrate
