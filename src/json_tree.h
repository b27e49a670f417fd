// A JSON text held as a tree of byte spans over its source, for editing a
// record without rewriting what the edit does not touch.
//
// Parse() validates the text (RFC 8259: grammar, UTF-8, escapes and
// surrogate pairs; a NUL byte; at most kMaxJsonDepth nested arrays and
// objects; no object with two members of one name) and records, for each
// value, where it lies in the text; nothing is decoded or copied. Numbers
// are kept as their text, so none is ever rounded. Edits (Replace, Add,
// Remove, Move, Clone, Import) change the tree's shape only; Serialize()
// writes every value, member and separator the edits did not touch with
// its original bytes, and only the touched places anew (see
// migrations/README.md, "What a patch changes").
//
// Nodes live in one vector and are named by index; the texts they point
// into (the record, a patch's values, generated text) must outlive the
// tree. Thread-safety: none; one tree per record and thread.
#ifndef ROCKSMIGRATE_SRC_JSON_TREE_H_
#define ROCKSMIGRATE_SRC_JSON_TREE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace rocksmigrate {

class JsonTree {
 public:
  enum class Type : uint8_t {
    kNull, kFalse, kTrue, kNumber, kString, kArray, kObject
  };
  static constexpr int kNone = -1;
  // "null", "boolean", "number", "string", "array" or "object".
  static const char* TypeName(Type type);

  JsonTree() = default;
  JsonTree(const JsonTree&) = delete;
  JsonTree& operator=(const JsonTree&) = delete;

  // Parses `text` (kept by reference) into a new tree; returns its root.
  // InvalidArgument saying why (as the exact parser's messages do) when the
  // text is not accepted. Clears the tree first. With `node_depth`, only
  // the values at most that deep get nodes (0: the root; 1: the root and
  // its members), the rest is only checked: for reading a record's
  // top-level members in memory that does not grow with the record.
  static constexpr int kAllDepths = 1 << 30;
  absl::Status Parse(std::string_view text, int node_depth = kAllDepths);
  // Parses `text` as another source of this tree (a patch value), without
  // clearing it; returns the new subtree's root through `root`.
  absl::Status ParseMore(std::string_view text, int* root);

  int root() const { return root_; }
  Type type(int n) const { return nodes_[n].type; }
  bool is_container(int n) const {
    return nodes_[n].type == Type::kArray || nodes_[n].type == Type::kObject;
  }
  int parent(int n) const { return nodes_[n].parent; }
  size_t size(int n) const { return nodes_[n].children; }
  int first_child(int n) const { return nodes_[n].first; }
  int next_sibling(int n) const { return nodes_[n].next; }
  // The value's text. For a container that an edit changed, the text it
  // had before (Serialize() gives the text it has now).
  std::string_view text(int n) const {
    const Node& node = nodes_[n];
    return sources_[node.source].substr(node.begin, node.end - node.begin);
  }
  // An object member's name, unescaped.
  std::string Key(int n) const;

  // The member of object `obj` named `name`, or kNone.
  int FindMember(int obj, std::string_view name) const;
  // The `index`-th element of array `arr`, or kNone.
  int Element(int arr, size_t index) const;

  // Edits. Each marks the changed container and its ancestors.
  // Puts `value` (a detached node) in the place of `old`, which becomes
  // detached; an object member keeps its name.
  void Replace(int old, int value);
  // Appends `value` to object `obj` as member `name` (which must be new).
  void AddMember(int obj, std::string_view name, int value);
  // The same with the name already a JSON string token (with its quotes),
  // which must outlive the tree's use of it.
  void AddMemberToken(int obj, std::string_view token, int value);
  // Inserts `value` into array `arr` before element `index` (size: append).
  void InsertElement(int arr, size_t index, int value);
  // Detaches `n` from its container.
  void Remove(int n);
  // A detached deep copy of `n` (sharing its texts).
  int Clone(int n);
  // A detached node holding `text` as it is (a number or literal the
  // caller formats): `type` says what it is. The view form keeps `text` by
  // reference.
  int NewScalar(Type type, std::string text);
  int NewScalarView(Type type, std::string_view text);
  // A detached copy of node `n` of `other` (a patch's value, parsed once),
  // whose texts must outlive this tree's use of them.
  int Import(const JsonTree& other, int n);

  // The number of containers above `n` (the root: 0), and the deepest
  // nesting inside `n` (a scalar: 0, `{}`: 1).
  int Level(int n) const;
  int Depth(int n) const;

  // True if `a` and `b` hold equal JSON values (RFC 6902 §4.6): objects
  // with the same members in any order, arrays element by element,
  // strings by their characters, numbers by their exact decimal value.
  bool Equal(int a, int b) const;

  // The tree's root written out, untouched bytes as they were.
  std::string Serialize() const;
  void SerializeTo(int n, std::string* out) const;

 private:
  struct Node {
    uint32_t begin = 0, end = 0;          // Value text in its source.
    uint32_t key_begin = 0, key_end = 0;  // Member name token, with quotes.
    int32_t parent = kNone, first = kNone, last = kNone, next = kNone;
    uint32_t children = 0;
    uint16_t source = 0, key_source = 0;
    Type type = Type::kNull;
    bool key_escaped = false;
    // A container whose members or elements an edit changed (or one of
    // theirs): written anew, its untouched children with their bytes.
    bool changed = false;
    // The node stands where the parse put it (same container, same
    // neighbour before it, same name): the text before it in its container
    // (gap) and its name and colon (up to head_end) are written as they
    // were, from slot_source for a replaced value, else from its source.
    bool in_place = false;
    // An object member whose name and colon (key_begin to head_end, with
    // its spacing) are still its own: kept when its neighbours change.
    bool has_head = false;
    bool replaced = false;
    uint16_t slot_source = 0;
    uint32_t gap_begin = 0, gap_end = 0, head_end = 0;
    // A container: the text between its last child (or its opening
    // bracket) and its closing bracket starts at tail_begin, and is written
    // as it was while tail_intact (the last child is the original one).
    uint32_t tail_begin = 0;
    bool tail_intact = true;
  };

  uint16_t AddSource(std::string_view text) {
    sources_.push_back(text);
    return static_cast<uint16_t>(sources_.size() - 1);
  }
  absl::Status Run(std::string_view text, int node_depth, int* root);
  std::string_view Source(uint16_t s) const { return sources_[s]; }
  void MarkChanged(int n);
  // A detached copy of `other`'s subtree `n`, its sources offset by
  // `source_offset` (Clone: this tree, 0; Import: the other's, appended).
  int CopyFrom(const JsonTree& other, int n, uint16_t source_offset);
  void Link(int container, int before, int n);  // before: kNone = append.
  int Prev(int n) const;
  void AppendText(int n, std::string* out) const;
  std::string_view KeyToken(int n) const {
    const Node& node = nodes_[n];
    return sources_[node.key_source].substr(node.key_begin,
                                            node.key_end - node.key_begin);
  }

  friend class JsonTreeParser;
  // The parser's working memory, kept between parses so that a tree reused
  // for record after record allocates nothing once warm.
  struct Scratch;
  std::shared_ptr<Scratch> scratch_;
  std::vector<Node> nodes_;
  std::vector<std::string_view> sources_;
  std::deque<std::string> owned_;  // Generated texts (names, numbers).
  // The work list of CopyFrom(), kept to spare an allocation each time.
  std::vector<std::pair<int, int>> copy_stack_;
  int root_ = kNone;
};

// The characters of a JSON string token (with its quotes), unescaped.
// REQUIRES: a token the parser accepted.
std::string UnescapeJsonString(std::string_view token);
// `raw` (UTF-8) as a JSON string token, quotes included.
std::string EscapeJsonString(std::string_view raw);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_JSON_TREE_H_
