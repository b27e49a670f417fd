// Declarative migrations: loading, validating and applying `NNNN_name.json`
// files (SPEC §3, §8.3).
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
#include "src/json_parse.h"
#include "src/migration_file.h"
#include "src/sha256.h"

namespace rocksmigrate {
namespace {

// Patch error messages quote values; keep a huge value from flooding a line.
constexpr size_t kMaxQuotedBytes = 120;

std::string Clip(std::string text) {
  if (text.size() > kMaxQuotedBytes) {
    text.resize(kMaxQuotedBytes);
    text += "...";
  }
  return text;
}

// One RFC 6902 operation, checked and with its pointers split into reference
// tokens at load time so that applying it per record parses nothing.
struct PatchOp {
  enum class Kind { kAdd, kRemove, kReplace, kMove, kCopy, kTest };
  Kind kind = Kind::kAdd;
  std::vector<std::string> path;  // Unescaped reference tokens.
  std::vector<std::string> from;  // For move and copy.
  std::string path_text;
  std::string from_text;
  Json value;                     // For add, replace and test.
  std::string description;        // "op 2 (remove /title)", for errors.
};

// Splits a JSON pointer (RFC 6901) into unescaped tokens. Returns false if
// `text` is not a valid pointer. Validity is decided by nlohmann's own
// parser so that the loader accepts exactly what the library does.
bool SplitPointer(const std::string& text, std::vector<std::string>* tokens) {
  Json::json_pointer pointer;
  try {
    pointer = Json::json_pointer(text);
  } catch (const std::exception&) {
    return false;
  }
  tokens->clear();
  while (!pointer.empty()) {
    tokens->push_back(pointer.back());
    pointer.pop_back();
  }
  std::reverse(tokens->begin(), tokens->end());
  return true;
}

// An array index token per RFC 6901: "0" or digits without a leading zero.
bool ParseArrayIndex(const std::string& token, size_t* index) {
  if (token.empty() || token.size() > 18) return false;
  if (token.size() > 1 && token[0] == '0') return false;
  size_t value = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  *index = value;
  return true;
}

// The value at tokens[0, end) of `root`, or nullptr if there is none.
Json* Resolve(Json& root, const std::vector<std::string>& tokens,
              size_t end) {
  Json* node = &root;
  for (size_t i = 0; i < end; ++i) {
    const std::string& token = tokens[i];
    if (node->is_object()) {
      auto it = node->find(token);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array()) {
      size_t index = 0;
      if (!ParseArrayIndex(token, &index) || index >= node->size()) {
        return nullptr;
      }
      node = &(*node)[index];
    } else {
      return nullptr;
    }
  }
  return node;
}

Json* Resolve(Json& root, const std::vector<std::string>& tokens) {
  return Resolve(root, tokens, tokens.size());
}

// The operations are applied here rather than with nlohmann's
// basic_json::patch(): 3.11 aborts the process (JSON_ASSERT) on an "add"
// whose parent is a string or number and silently ignores a "remove" under
// one, and neither is acceptable for records we do not control. The semantics
// are RFC 6902's; values are compared with nlohmann's operator==.
absl::Status AddAt(Json& root, const std::vector<std::string>& path,
                   const std::string& path_text, Json value) {
  if (path.empty()) {
    root = std::move(value);
    return absl::OkStatus();
  }
  Json* parent = Resolve(root, path, path.size() - 1);
  if (parent == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("the parent of ", path_text, " does not exist"));
  }
  const std::string& last = path.back();
  if (parent->is_object()) {
    (*parent)[last] = std::move(value);
    return absl::OkStatus();
  }
  if (parent->is_array()) {
    if (last == "-") {
      parent->push_back(std::move(value));
      return absl::OkStatus();
    }
    size_t index = 0;
    if (!ParseArrayIndex(last, &index) || index > parent->size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("array index in ", path_text, " is out of range"));
    }
    parent->insert(parent->begin() + static_cast<std::ptrdiff_t>(index),
                   std::move(value));
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "the parent of ", path_text, " is not an object or array"));
}

absl::Status RemoveAt(Json& root, const std::vector<std::string>& path,
                      const std::string& path_text) {
  if (path.empty()) {
    return absl::InvalidArgumentError("cannot remove the whole record");
  }
  Json* parent = Resolve(root, path, path.size() - 1);
  const std::string& last = path.back();
  if (parent != nullptr && parent->is_object()) {
    auto it = parent->find(last);
    if (it != parent->end()) {
      parent->erase(it);
      return absl::OkStatus();
    }
  } else if (parent != nullptr && parent->is_array()) {
    size_t index = 0;
    if (ParseArrayIndex(last, &index) && index < parent->size()) {
      parent->erase(static_cast<Json::size_type>(index));
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(path_text, " does not exist"));
}

bool IsProperPrefix(const std::vector<std::string>& prefix,
                    const std::vector<std::string>& path) {
  return prefix.size() < path.size() &&
         std::equal(prefix.begin(), prefix.end(), path.begin());
}

absl::Status ApplyOp(const PatchOp& op, Json& root) {
  switch (op.kind) {
    case PatchOp::Kind::kAdd:
      return AddAt(root, op.path, op.path_text, op.value);
    case PatchOp::Kind::kRemove:
      return RemoveAt(root, op.path, op.path_text);
    case PatchOp::Kind::kReplace: {
      Json* target = Resolve(root, op.path);
      if (target == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat(op.path_text, " does not exist"));
      }
      *target = op.value;
      return absl::OkStatus();
    }
    case PatchOp::Kind::kMove: {
      if (op.from == op.path) return absl::OkStatus();
      if (IsProperPrefix(op.from, op.path)) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot move ", op.from_text, " into itself"));
      }
      Json* source = Resolve(root, op.from);
      if (source == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat(op.from_text, " does not exist"));
      }
      Json value = std::move(*source);
      RM_RETURN_IF_ERROR(RemoveAt(root, op.from, op.from_text));
      return AddAt(root, op.path, op.path_text, std::move(value));
    }
    case PatchOp::Kind::kCopy: {
      Json* source = Resolve(root, op.from);
      if (source == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat(op.from_text, " does not exist"));
      }
      return AddAt(root, op.path, op.path_text, Json(*source));
    }
    case PatchOp::Kind::kTest: {
      Json* target = Resolve(root, op.path);
      if (target == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("test failed: ", op.path_text, " does not exist"));
      }
      if (*target != op.value) {
        return absl::InvalidArgumentError(absl::StrCat(
            "test failed: ", op.path_text, " is ", Clip(target->dump()),
            ", expected ", Clip(op.value.dump())));
      }
      return absl::OkStatus();
    }
  }
  return absl::InternalError("unknown patch operation");
}

// A migration defined by a file: an RFC 6902 patch applied to each record.
// Immutable after construction, so Transform() is safe to call concurrently.
class DeclarativeMigration : public JsonMigration {
 public:
  DeclarativeMigration(int from, int to, std::string name, std::string prefix,
                       std::vector<PatchOp> ops, std::string source_file,
                       std::string checksum)
      : JsonMigration(from, to, std::move(name), std::move(prefix)),
        ops_(std::move(ops)),
        source_file_(std::move(source_file)),
        checksum_(std::move(checksum)) {}

  absl::Status Transform(std::string_view key, Json& record) const override {
    for (const PatchOp& op : ops_) {
      absl::Status status = ApplyOp(op, record);
      if (!status.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            source_file_, ": patch ", op.description, ": ", status.message()));
      }
    }
    if (!record.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source_file_, ": the patch left a value that is not a JSON object"));
    }
    return absl::OkStatus();
  }

  std::string source_file() const override { return source_file_; }
  std::string checksum() const override { return checksum_; }

 private:
  const std::vector<PatchOp> ops_;
  const std::string source_file_;
  const std::string checksum_;
};

const char* TypeName(const Json& value) { return value.type_name(); }

// Validates one file's parsed contents; `display` names the file in errors.
class FileChecker {
 public:
  explicit FileChecker(std::string display) : display_(std::move(display)) {}

  absl::Status Error(const std::string& problem) const {
    return absl::InvalidArgumentError(absl::StrCat(display_, ": ", problem));
  }

  absl::StatusOr<int> Version(const Json& doc, const char* field) const {
    auto it = doc.find(field);
    if (it == doc.end()) {
      return Error(absl::StrCat("missing field \"", field, "\""));
    }
    if (!it->is_number_integer() || it->get<int64_t>() < 0 ||
        it->get<int64_t>() > 1000000000 ||
        (it->is_number_unsigned() &&
         it->get<uint64_t>() > 1000000000u)) {
      return Error(absl::StrCat("field \"", field,
                                "\" must be a non-negative integer, not ",
                                Clip(it->dump())));
    }
    return static_cast<int>(it->get<int64_t>());
  }

  absl::StatusOr<std::string> String(const Json& doc, const char* field,
                                     bool required) const {
    auto it = doc.find(field);
    if (it == doc.end()) {
      if (required) {
        return Error(absl::StrCat("missing field \"", field, "\""));
      }
      return std::string();
    }
    if (!it->is_string()) {
      return Error(absl::StrCat("field \"", field, "\" must be a string, not ",
                                TypeName(*it)));
    }
    return it->get<std::string>();
  }

  absl::StatusOr<PatchOp> Op(const Json& raw, size_t index) const {
    const std::string where = absl::StrCat("patch op ", index + 1);
    if (!raw.is_object()) {
      return Error(absl::StrCat(where, " must be an object, not ",
                                TypeName(raw)));
    }
    for (const auto& member : raw.items()) {
      const std::string& k = member.key();
      if (k != "op" && k != "path" && k != "value" && k != "from") {
        return Error(absl::StrCat(where, ": unknown member \"", k,
                                  "\" (allowed: op, path, value, from)"));
      }
    }
    PatchOp op;
    auto op_it = raw.find("op");
    if (op_it == raw.end() || !op_it->is_string()) {
      return Error(absl::StrCat(where, ": \"op\" must be a string"));
    }
    static const std::map<std::string, PatchOp::Kind> kKinds = {
        {"add", PatchOp::Kind::kAdd},         {"remove", PatchOp::Kind::kRemove},
        {"replace", PatchOp::Kind::kReplace}, {"move", PatchOp::Kind::kMove},
        {"copy", PatchOp::Kind::kCopy},       {"test", PatchOp::Kind::kTest}};
    const std::string name = op_it->get<std::string>();
    auto kind = kKinds.find(name);
    if (kind == kKinds.end()) {
      return Error(absl::StrCat(
          where, ": unknown op \"", Clip(name),
          "\" (allowed: add, remove, replace, move, copy, test)"));
    }
    op.kind = kind->second;

    auto path_it = raw.find("path");
    if (path_it == raw.end() || !path_it->is_string()) {
      return Error(absl::StrCat(where, " (", name,
                                "): \"path\" must be a JSON pointer string"));
    }
    op.path_text = path_it->get<std::string>();
    if (!SplitPointer(op.path_text, &op.path)) {
      return Error(absl::StrCat(where, " (", name, "): \"", Clip(op.path_text),
                                "\" is not a valid JSON pointer (RFC 6901: "
                                "empty, or \"/\"-separated tokens)"));
    }
    const bool needs_value = op.kind == PatchOp::Kind::kAdd ||
                             op.kind == PatchOp::Kind::kReplace ||
                             op.kind == PatchOp::Kind::kTest;
    const bool needs_from = op.kind == PatchOp::Kind::kMove ||
                            op.kind == PatchOp::Kind::kCopy;
    auto value_it = raw.find("value");
    if (needs_value) {
      if (value_it == raw.end()) {
        return Error(absl::StrCat(where, " (", name, " ", op.path_text,
                                  "): missing \"value\""));
      }
      op.value = *value_it;
    }
    if (needs_from) {
      auto from_it = raw.find("from");
      if (from_it == raw.end() || !from_it->is_string()) {
        return Error(absl::StrCat(where, " (", name, " ", op.path_text,
                                  "): \"from\" must be a JSON pointer string"));
      }
      op.from_text = from_it->get<std::string>();
      if (!SplitPointer(op.from_text, &op.from)) {
        return Error(absl::StrCat(where, " (", name, "): \"from\" \"",
                                  Clip(op.from_text),
                                  "\" is not a valid JSON pointer"));
      }
    }
    if (op.kind == PatchOp::Kind::kRemove && op.path.empty()) {
      return Error(absl::StrCat(where, ": cannot remove the whole record"));
    }
    op.description = absl::StrCat("op ", index + 1, " (", name, " ",
                                  op.path_text.empty() ? "\"\"" : op.path_text,
                                  ")");
    return op;
  }

 private:
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
  FileChecker check(display);
  // The same exact parser as for records: a patch value that nests past the
  // bound, repeats a member name or holds a number the DOM would change is
  // refused here, not met record by record.
  Json doc;
  absl::Status parsed = ParseJsonExactly(bytes, &doc);
  if (!parsed.ok()) {
    std::string why(parsed.message());
    if (absl::StartsWith(why, "not valid JSON (")) {
      why = absl::StrCat("malformed JSON: ",
                         why.substr(16, why.size() - 17));
    }
    return check.Error(why);
  }
  if (!doc.is_object()) {
    return check.Error(absl::StrCat("must hold a JSON object, not ",
                                    TypeName(doc)));
  }
  for (const auto& member : doc.items()) {
    const std::string& k = member.key();
    if (k != "from" && k != "to" && k != "name" && k != "description" &&
        k != "prefix" && k != "patch") {
      return check.Error(absl::StrCat(
          "unknown field \"", Clip(k),
          "\" (allowed: from, to, name, description, prefix, patch)"));
    }
  }
  RM_ASSIGN_OR_RETURN(int from, check.Version(doc, "from"));
  RM_ASSIGN_OR_RETURN(int to, check.Version(doc, "to"));
  RM_ASSIGN_OR_RETURN(std::string name, check.String(doc, "name", true));
  RM_ASSIGN_OR_RETURN(std::string description,
                      check.String(doc, "description", false));
  RM_ASSIGN_OR_RETURN(std::string prefix, check.String(doc, "prefix", true));
  auto patch_it = doc.find("patch");
  if (patch_it == doc.end()) return check.Error("missing field \"patch\"");
  if (!patch_it->is_array()) {
    return check.Error(absl::StrCat("field \"patch\" must be an array, not ",
                                    TypeName(*patch_it)));
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

  std::vector<PatchOp> ops;
  ops.reserve(patch_it->size());
  for (size_t i = 0; i < patch_it->size(); ++i) {
    RM_ASSIGN_OR_RETURN(PatchOp op, check.Op((*patch_it)[i], i));
    ops.push_back(std::move(op));
  }
  return std::unique_ptr<Migration>(std::make_unique<DeclarativeMigration>(
      from, to, std::move(name), std::move(prefix), std::move(ops), file_name,
      Sha256Hex(bytes)));
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
    if (name.empty() || name[0] == '.' || !absl::EndsWith(name, ".json")) {
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

absl::Status RegisterMigrationDir(const std::string& dir,
                                  MigrationRegistry* registry) {
  RM_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Migration>> migrations,
                      LoadMigrationDir(dir));
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
