// Declarative migrations: loading and validating `NNNN_name.json` files
// (SPEC §3, §8.3). Applying one is the PatchMigration's (src/json_patch.h).
#include "rocksmigrate/declarative.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "rocksmigrate/json_migration.h"
#include "rocksmigrate/status_macros.h"
#include "src/json_patch.h"
#include "src/json_tree.h"
#include "src/migration_file.h"
#include "src/patch_migration_factory.h"
#include "src/sha256.h"

namespace rocksmigrate {
namespace {

using Type = JsonTree::Type;

// Error messages quote values; keep a huge value from flooding a line.
constexpr size_t kMaxQuotedBytes = 120;

std::string Clip(std::string_view text) {
  if (text.size() <= kMaxQuotedBytes) return std::string(text);
  return absl::StrCat(std::string(text.substr(0, kMaxQuotedBytes)), "...");
}

const char* TypeName(Type t) { return JsonTree::TypeName(t); }

// Reads one file's fields; `display` names the file in errors.
class FileChecker {
 public:
  FileChecker(const JsonTree& tree, std::string display)
      : tree_(tree), display_(std::move(display)) {}

  absl::Status Error(std::string_view problem) const {
    return absl::InvalidArgumentError(absl::StrCat(display_, ": ", std::string(problem)));
  }

  absl::StatusOr<int> Member(const char* field, bool required) const {
    const int n = tree_.FindMember(tree_.root(), field);
    if (n == JsonTree::kNone && required) {
      return Error(absl::StrCat("missing field \"", field, "\""));
    }
    return n;
  }

  absl::StatusOr<int> Version(const char* field) const {
    RM_ASSIGN_OR_RETURN(int n, Member(field, true));
    const std::string_view text = tree_.text(n);
    bool ok = tree_.type(n) == Type::kNumber && !text.empty() &&
              text.size() <= 10 && (text == "0" || text[0] != '0');
    int64_t v = 0;
    for (size_t i = 0; ok && i < text.size(); ++i) {  // At most 10 digits.
      const char c = text[i];
      if (c < '0' || c > '9') {
        ok = false;
        break;
      }
      v = v * 10 + (c - '0');
    }
    if (!ok || v > 1000000000) {
      return Error(absl::StrCat("field \"", field,
                                "\" must be a non-negative integer, not ",
                                Clip(text)));
    }
    return static_cast<int>(v);
  }

  absl::StatusOr<std::string> String(const char* field, bool required) const {
    RM_ASSIGN_OR_RETURN(int n, Member(field, required));
    if (n == JsonTree::kNone) return std::string();
    if (tree_.type(n) != Type::kString) {
      return Error(absl::StrCat("field \"", field, "\" must be a string, not ",
                                TypeName(tree_.type(n))));
    }
    return UnescapeJsonString(tree_.text(n));
  }

 private:
  const JsonTree& tree_;
  std::string display_;
};

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read"));
  }
  return bytes.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Migration>> LoadMigrationFile(
    const std::string& path) {
  RM_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return ParseMigrationFile(bytes, std::filesystem::path(path).filename(),
                            path);
}

absl::StatusOr<std::unique_ptr<Migration>> ParseMigrationFile(
    std::string_view bytes, const std::string& file_name,
    const std::string& display) {
  // The same parser as for records (depth, duplicate names, UTF-8): a patch
  // value keeps the bytes it has in the file, numbers of any size included.
  JsonTree tree;
  absl::Status parsed = tree.Parse(bytes);
  const FileChecker check(tree, display);
  if (!parsed.ok()) {
    std::string why(parsed.message());
    if (absl::StartsWith(why, "not valid JSON (")) {
      why = absl::StrCat("malformed JSON: ", why.substr(16, why.size() - 17));
    }
    return check.Error(why);
  }
  if (tree.type(tree.root()) != Type::kObject) {
    return check.Error(absl::StrCat("must hold a JSON object, not ",
                                    TypeName(tree.type(tree.root()))));
  }
  for (int n = tree.first_child(tree.root()); n != JsonTree::kNone;
       n = tree.next_sibling(n)) {
    const std::string k = tree.Key(n);
    if (k != "from" && k != "to" && k != "name" && k != "description" &&
        k != "prefix" && k != "patch" && k != "down") {
      return check.Error(absl::StrCat(
          "unknown field \"", Clip(k),
          "\" (allowed: from, to, name, description, prefix, patch, down)"));
    }
  }
  RM_ASSIGN_OR_RETURN(int from, check.Version("from"));
  RM_ASSIGN_OR_RETURN(int to, check.Version("to"));
  RM_ASSIGN_OR_RETURN(std::string name, check.String("name", true));
  RM_ASSIGN_OR_RETURN(std::string description,
                      check.String("description", false));
  RM_ASSIGN_OR_RETURN(std::string prefix, check.String("prefix", true));
  RM_ASSIGN_OR_RETURN(int patch, check.Member("patch", true));
  if (tree.type(patch) != Type::kArray) {
    return check.Error(absl::StrCat("field \"patch\" must be an array, not ",
                                    TypeName(tree.type(patch))));
  }
  if (to != from + 1) {
    return check.Error(absl::StrCat("\"to\" (", to, ") must be \"from\" + 1 (",
                                     from + 1, "): one file per version step"));
  }
  if (name.empty()) return check.Error("field \"name\" must not be empty");
  if (prefix.empty()) {
    return check.Error(
        "field \"prefix\" must not be empty (declarative migrations rewrite "
        "the records under one key prefix)");
  }
  if (prefix[0] == '_') {
    return check.Error(absl::StrCat("prefix \"", Clip(prefix),
                                    "\" starts with '_', which is reserved for "
                                    "rocksmigrate's own keys"));
  }
  const std::string expected_name =
      absl::StrFormat("%04d_%s.json", to, name);
  if (file_name != expected_name) {
    return check.Error(absl::StrCat(
        "file name must be ", expected_name,
        " (NNNN = \"to\" zero-padded to 4 digits, then \"_\" and the \"name\" "
        "field)"));
  }
  absl::StatusOr<JsonPatch> compiled = JsonPatch::Compile(tree, patch);
  if (!compiled.ok()) return check.Error(std::string(compiled.status().message()));
  // The optional down patch (rollback without a backup): the same checks.
  std::optional<JsonPatch> down;
  RM_ASSIGN_OR_RETURN(int down_node, check.Member("down", false));
  if (down_node != JsonTree::kNone) {
    if (tree.type(down_node) != Type::kArray) {
      return check.Error(absl::StrCat("field \"down\" must be an array, not ",
                                      TypeName(tree.type(down_node))));
    }
    absl::StatusOr<JsonPatch> d = JsonPatch::Compile(tree, down_node);
    if (!d.ok()) {
      return check.Error(absl::StrCat("field \"down\": ", d.status().message()));
    }
    down = std::move(*d);
  }
  RM_ASSIGN_OR_RETURN(
      std::unique_ptr<PatchMigration> m,
      PatchMigrationFactory::Make(from, std::move(name), std::move(prefix),
                                  std::move(*compiled), std::move(down),
                                  file_name, Sha256Hex(bytes)));
  return std::unique_ptr<Migration>(std::move(m));
}

absl::StatusOr<std::vector<std::unique_ptr<Migration>>> LoadMigrationDir(
    const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    if (fs::exists(dir, ec)) {
      return absl::InvalidArgumentError(
          absl::StrCat(dir, ": not a directory"));
    }
    return absl::NotFoundError(
        absl::StrCat("migrations directory ", dir, " does not exist"));
  }
  std::vector<std::string> names;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": cannot list: ", ec.message()));
  }
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename();
    // Editors' hidden backup files are not migrations.
    if (name.empty() || name[0] == '.' || !absl::EndsWith(name, ".json") ||
        name == kBaselineFileName) {
      continue;
    }
    std::error_code type_ec;
    if (!entry.is_regular_file(type_ec)) {
      return absl::InvalidArgumentError(absl::StrCat(
          entry.path().string(), ": not a regular file (a migration file "
                                 "must be a readable *.json file)"));
    }
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());

  std::vector<std::unique_ptr<Migration>> migrations;
  // (from, prefix) -> file, to name both files of a duplicate step.
  std::map<std::pair<int, std::string>, std::string> seen;
  for (const std::string& name : names) {
    const std::string path = (fs::path(dir) / name).string();
    RM_ASSIGN_OR_RETURN(std::unique_ptr<Migration> migration,
                        LoadMigrationFile(path));
    auto [previous, inserted] = seen.emplace(
        std::make_pair(migration->from(), migration->prefix()), name);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": step v", migration->from(), " -> v", migration->to(),
          " for prefix \"", migration->prefix(), "\" is already defined by ",
          previous->second, "; keep one file per step and prefix"));
    }
    migrations.push_back(std::move(migration));
  }
  return migrations;
}

namespace {

// Reads `dir/baseline.json` into the registry's supported-version window.
absl::Status ApplyBaselineFile(const std::string& dir,
                               MigrationRegistry* registry) {
  const std::string path =
      (std::filesystem::path(dir) / kBaselineFileName).string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return absl::OkStatus();
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
  }
  auto bad = [&path](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", what, "; expected {\"oldest_supported_version\": N, "
        "\"upgrade_hint\": \"...\"} (the hint is optional)"));
  };
  const Json j = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (key != "oldest_supported_version" && key != "upgrade_hint") {
      return bad(absl::StrCat("unknown field \"", key, "\""));
    }
  }
  auto version = j.find("oldest_supported_version");
  if (version == j.end() || !version->is_number_integer() ||
      version->get<int64_t>() < 1 || version->get<int64_t>() > 1000000000) {
    return bad("field \"oldest_supported_version\" must be an integer >= 1");
  }
  std::string hint;
  if (auto h = j.find("upgrade_hint"); h != j.end()) {
    if (!h->is_string()) return bad("field \"upgrade_hint\" must be a string");
    hint = h->get<std::string>();
  }
  absl::Status s = registry->SetOldestSupportedVersion(
      static_cast<int>(version->get<int64_t>()), std::move(hint));
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
  return absl::OkStatus();
}

}  // namespace

absl::Status RegisterMigrationDir(const std::string& dir,
                                  MigrationRegistry* registry) {
  RM_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Migration>> migrations,
                      LoadMigrationDir(dir));
  RM_RETURN_IF_ERROR(ApplyBaselineFile(dir, registry));
  for (std::unique_ptr<Migration>& migration : migrations) {
    const std::string file =
        (std::filesystem::path(dir) / migration->source_file()).string();
    absl::Status status = registry->Register(std::move(migration));
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat(file, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace rocksmigrate
