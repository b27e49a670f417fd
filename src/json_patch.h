// JSON Patch (RFC 6902) over JSON Pointers (RFC 6901), applied to a record's
// bytes: a patch is compiled once from its JSON text, then applied to each
// record's JsonTree, which writes everything the patch does not touch with
// its original bytes. Conformance and the deliberate deviations are listed
// in migrations/README.md.
//
// Thread-safety: a compiled JsonPatch is immutable; Apply() may run on
// many threads at once, each with its own tree.
#ifndef ROCKSMIGRATE_SRC_JSON_PATCH_H_
#define ROCKSMIGRATE_SRC_JSON_PATCH_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "src/json_tree.h"

namespace rocksmigrate {

// A JSON Pointer (RFC 6901) as its unescaped reference tokens, or
// InvalidArgument for a text that is not one.
absl::StatusOr<std::vector<std::string>> ParseJsonPointer(std::string_view text);

class JsonPatch {
 public:
  // Compiles the patch array at node `patch` of `tree` (the parsed
  // migration file, or any JSON text holding the array). Errors are
  // InvalidArgument, "patch op N ...: what is wrong". Values keep the bytes
  // they have in the file. An operation's unknown members are ignored (RFC
  // 6902 §4); the whole-record remove is refused (see the README).
  static absl::StatusOr<JsonPatch> Compile(const JsonTree& tree, int patch);
  // The same from the text of a patch array.
  static absl::StatusOr<JsonPatch> Compile(std::string_view patch_text);

  // Applies every operation in order to `tree`'s root. On error (a missing
  // location, a failing test...) returns InvalidArgument "op N (add /x):
  // why"; the tree is then partly edited and must be discarded.
  absl::Status Apply(JsonTree* tree) const;

  size_t size() const { return ops_.size(); }

 private:
  struct Op {
    enum class Kind { kAdd, kRemove, kReplace, kMove, kCopy, kTest };
    Kind kind = Kind::kAdd;
    std::vector<std::string> path;
    std::vector<std::string> from;
    std::string path_text;
    std::string from_text;
    // The value's JSON text, as in the patch, and the value parsed once
    // (pointing into that text, which is why both are on the heap), copied
    // into each record's tree.
    std::shared_ptr<const std::string> value;
    std::shared_ptr<const JsonTree> value_tree;
    // The path's last token as a member name token, for an add that makes
    // a new member.
    std::shared_ptr<const std::string> last_token;
    std::string description;   // "op 2 (remove /title)".
  };

  absl::Status ApplyOne(const Op& op, JsonTree* tree) const;

  std::vector<Op> ops_;
};

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_JSON_PATCH_H_
