#include "src/json_patch.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rocksmigrate/status_macros.h"
#include "src/json_parse.h"

namespace rocksmigrate {
namespace {

using Type = JsonTree::Type;
constexpr int kNone = JsonTree::kNone;

// Error messages quote values; keep a huge value from flooding a line.
constexpr size_t kMaxQuoted = 120;

std::string Clip(std::string_view text) {
  if (text.size() <= kMaxQuoted) return std::string(text);
  return absl::StrCat(std::string(text.substr(0, kMaxQuoted)), "...");
}

absl::Status Bad(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

// An array index per RFC 6901: "0", or digits without a leading zero.
bool ParseIndex(const std::string& token, size_t* index) {
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

// The node at tokens[0, end) from the root, or kNone.
int Resolve(const JsonTree& tree, const std::vector<std::string>& tokens,
            size_t end) {
  int n = tree.root();
  for (size_t i = 0; i < end && n != kNone; ++i) {
    const std::string& token = tokens[i];
    if (tree.type(n) == Type::kObject) {
      n = tree.FindMember(n, token);
    } else if (tree.type(n) == Type::kArray) {
      size_t index = 0;
      n = ParseIndex(token, &index) ? tree.Element(n, index) : kNone;
    } else {
      n = kNone;
    }
  }
  return n;
}

int Resolve(const JsonTree& tree, const std::vector<std::string>& tokens) {
  return Resolve(tree, tokens, tokens.size());
}

bool IsProperPrefix(const std::vector<std::string>& prefix,
                    const std::vector<std::string>& path) {
  return prefix.size() < path.size() &&
         std::equal(prefix.begin(), prefix.end(), path.begin());
}

// Puts `value` (detached) at `path`: RFC 6902 §4.1's "add". `token` is
// the path's last token as a JSON string token.
absl::Status AddAt(JsonTree* tree, const std::vector<std::string>& path,
                   const std::string& path_text, const std::string& token,
                   int value) {
  if (path.empty()) {
    tree->Replace(tree->root(), value);
    return absl::OkStatus();
  }
  const int parent = Resolve(*tree, path, path.size() - 1);
  if (parent == kNone) {
    return Bad(absl::StrCat("the parent of ", path_text, " does not exist"));
  }
  // A value copied or added under deep containers could nest the record
  // past the bound every parser of it applies.
  if (tree->is_container(value) &&
      tree->Level(parent) + 1 + tree->Depth(value) > kMaxJsonDepth) {
    return Bad(absl::StrCat("the value at ", path_text,
                            " would nest the record deeper than ",
                            kMaxJsonDepth, " arrays and objects"));
  }
  const std::string& last = path.back();
  if (tree->type(parent) == Type::kObject) {
    const int existing = tree->FindMember(parent, last);
    if (existing != kNone) {
      tree->Replace(existing, value);
    } else {
      tree->AddMemberToken(parent, token, value);
    }
    return absl::OkStatus();
  }
  if (tree->type(parent) == Type::kArray) {
    size_t index = 0;
    if (last == "-") {
      index = tree->size(parent);
    } else if (!ParseIndex(last, &index) || index > tree->size(parent)) {
      return Bad(absl::StrCat("array index in ", path_text, " is out of range"));
    }
    tree->InsertElement(parent, index, value);
    return absl::OkStatus();
  }
  return Bad(absl::StrCat("the parent of ", path_text,
                          " is not an object or array"));
}

absl::Status Missing(const std::string& what) {
  return Bad(absl::StrCat(what, " does not exist"));
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseJsonPointer(
    std::string_view text) {
  std::vector<std::string> tokens;
  if (text.empty()) return tokens;
  if (text[0] != '/') {
    return Bad("a JSON pointer is empty or starts with '/'");
  }
  std::string token;
  for (size_t i = 1; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '/') {
      tokens.push_back(std::move(token));
      token.clear();
      continue;
    }
    if (text[i] == '~') {
      if (i + 1 >= text.size() || (text[i + 1] != '0' && text[i + 1] != '1')) {
        return Bad("'~' in a JSON pointer must be followed by 0 or 1");
      }
      token.push_back(text[i + 1] == '0' ? '~' : '/');
      ++i;
      continue;
    }
    token.push_back(text[i]);
  }
  return tokens;
}

absl::StatusOr<JsonPatch> JsonPatch::Compile(std::string_view patch_text) {
  JsonTree tree;
  RM_RETURN_IF_ERROR(tree.Parse(patch_text));
  return Compile(tree, tree.root());
}

absl::StatusOr<JsonPatch> JsonPatch::Compile(const JsonTree& tree, int patch) {
  if (tree.type(patch) != Type::kArray) {
    return Bad("the patch must be an array of operations");
  }
  static constexpr std::array<std::pair<const char*, Op::Kind>, 6> kKinds = {{
      {"add", Op::Kind::kAdd}, {"remove", Op::Kind::kRemove},
      {"replace", Op::Kind::kReplace}, {"move", Op::Kind::kMove},
      {"copy", Op::Kind::kCopy}, {"test", Op::Kind::kTest}}};
  JsonPatch out;
  size_t index = 0;
  for (int n = tree.first_child(patch); n != kNone; n = tree.next_sibling(n)) {
    ++index;
    const std::string where = absl::StrCat("patch op ", index);
    if (tree.type(n) != Type::kObject) {
      return Bad(absl::StrCat(where, " must be an object"));
    }
    Op op;
    const int op_node = tree.FindMember(n, "op");
    if (op_node == kNone || tree.type(op_node) != Type::kString) {
      return Bad(absl::StrCat(where, ": \"op\" must be a string"));
    }
    const std::string name = UnescapeJsonString(tree.text(op_node));
    auto kind = std::find_if(kKinds.begin(), kKinds.end(),
                             [&](const auto& k) { return name == k.first; });
    if (kind == kKinds.end()) {
      return Bad(absl::StrCat(
          where, ": unknown op \"", Clip(name),
          "\" (allowed: add, remove, replace, move, copy, test)"));
    }
    op.kind = kind->second;
    const int path = tree.FindMember(n, "path");
    if (path == kNone || tree.type(path) != Type::kString) {
      return Bad(absl::StrCat(where, " (", name,
                              "): \"path\" must be a JSON pointer string"));
    }
    op.path_text = UnescapeJsonString(tree.text(path));
    absl::StatusOr<std::vector<std::string>> tokens =
        ParseJsonPointer(op.path_text);
    if (!tokens.ok()) {
      return Bad(absl::StrCat(where, " (", name, "): \"", Clip(op.path_text),
                              "\" is not a valid JSON pointer (RFC 6901: ",
                              tokens.status().message(), ")"));
    }
    op.path = std::move(*tokens);
    const bool needs_value = op.kind == Op::Kind::kAdd ||
                             op.kind == Op::Kind::kReplace ||
                             op.kind == Op::Kind::kTest;
    const bool needs_from =
        op.kind == Op::Kind::kMove || op.kind == Op::Kind::kCopy;
    if (needs_value) {
      const int value = tree.FindMember(n, "value");
      if (value == kNone) {
        return Bad(absl::StrCat(where, " (", name, " ", op.path_text,
                                "): missing \"value\""));
      }
      op.value = std::make_shared<const std::string>(tree.text(value));
      auto parsed = std::make_shared<JsonTree>();
      RM_RETURN_IF_ERROR(parsed->Parse(*op.value));
      op.value_tree = std::move(parsed);
    }
    if (needs_from) {
      const int from = tree.FindMember(n, "from");
      if (from == kNone || tree.type(from) != Type::kString) {
        return Bad(absl::StrCat(where, " (", name, " ", op.path_text,
                                "): \"from\" must be a JSON pointer string"));
      }
      op.from_text = UnescapeJsonString(tree.text(from));
      tokens = ParseJsonPointer(op.from_text);
      if (!tokens.ok()) {
        return Bad(absl::StrCat(where, " (", name, "): \"from\" \"",
                                Clip(op.from_text),
                                "\" is not a valid JSON pointer"));
      }
      op.from = std::move(*tokens);
    }
    if (op.kind == Op::Kind::kRemove && op.path.empty()) {
      return Bad(absl::StrCat(where, ": cannot remove the whole record"));
    }
    if (op.kind == Op::Kind::kMove && IsProperPrefix(op.from, op.path)) {
      return Bad(absl::StrCat(where, " (move ", op.path_text,
                              "): cannot move ", op.from_text,
                              " into itself"));
    }
    op.last_token = std::make_shared<const std::string>(
        EscapeJsonString(op.path.empty() ? std::string() : op.path.back()));
    op.description = absl::StrCat(
        "op ", index, " (", name, " ",
        op.path_text.empty() ? "\"\"" : op.path_text, ")");
    out.ops_.push_back(std::move(op));
  }
  return out;
}

absl::Status JsonPatch::ApplyOne(const Op& op, JsonTree* tree) const {
  switch (op.kind) {
    case Op::Kind::kAdd:
    case Op::Kind::kReplace:
    case Op::Kind::kTest: {
      const int value = tree->Import(*op.value_tree, op.value_tree->root());
      if (op.kind == Op::Kind::kAdd) {
        return AddAt(tree, op.path, op.path_text, *op.last_token, value);
      }
      const int target = Resolve(*tree, op.path);
      if (op.kind == Op::Kind::kReplace) {
        if (target == kNone) return Missing(op.path_text);
        tree->Replace(target, value);
        return absl::OkStatus();
      }
      if (target == kNone) {
        return Bad(absl::StrCat("test failed: ", op.path_text,
                                " does not exist"));
      }
      if (!tree->Equal(target, value)) {
        std::string actual;
        tree->SerializeTo(target, &actual);
        return Bad(absl::StrCat("test failed: ", op.path_text, " is ",
                                Clip(actual), ", expected ", Clip(*op.value)));
      }
      return absl::OkStatus();
    }
    case Op::Kind::kRemove: {
      const int target = Resolve(*tree, op.path);
      if (target == kNone) return Missing(op.path_text);
      tree->Remove(target);
      return absl::OkStatus();
    }
    case Op::Kind::kMove: {
      // RFC 6902 §4.4: "from" MUST exist, even when it equals "path".
      const int source = Resolve(*tree, op.from);
      if (source == kNone) return Missing(op.from_text);
      if (op.from == op.path) return absl::OkStatus();
      if (op.from.empty()) {
        return Bad("cannot move the whole record into itself");
      }
      tree->Remove(source);
      return AddAt(tree, op.path, op.path_text, *op.last_token, source);
    }
    case Op::Kind::kCopy: {
      const int source = Resolve(*tree, op.from);
      if (source == kNone) return Missing(op.from_text);
      return AddAt(tree, op.path, op.path_text, *op.last_token,
                   tree->Clone(source));
    }
  }
  return absl::InternalError("unknown patch operation");
}

absl::Status JsonPatch::Apply(JsonTree* tree) const {
  for (const Op& op : ops_) {
    absl::Status s = ApplyOne(op, tree);
    if (!s.ok()) {
      return Bad(absl::StrCat(op.description, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace rocksmigrate
