#include "src/json_tree.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "simdjson.h"
#include "src/json_number.h"
#include "src/json_parse.h"

namespace rocksmigrate {
namespace {

// Past this many members an object's names go into a hash set.
constexpr size_t kLinearNames = 24;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The end of the run of plain string bytes (none of '"', '\\' or a control
// character) that starts at `p`, eight bytes at a time.
size_t PlainRun(const char* data, size_t p, size_t size) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  while (p + 8 <= size) {
    uint64_t w;
    std::memcpy(&w, data + p, 8);
    const uint64_t quote = w ^ (kOnes * '"');
    const uint64_t slash = w ^ (kOnes * '\\');
    // A byte is flagged when it is zero after the xor (it was '"' or '\\')
    // or below 0x20; bytes of 0x80 and above are never flagged.
    const uint64_t hit = ((quote - kOnes) & ~quote) | ((slash - kOnes) & ~slash) |
                         ((w - kOnes * 0x20) & ~w);
    const uint64_t mask = hit & kHigh;
    if (mask != 0) return p + (__builtin_ctzll(mask) >> 3);
    p += 8;
  }
  while (p < size) {
    const unsigned char b = static_cast<unsigned char>(data[p]);
    if (b == '"' || b == '\\' || b < 0x20) break;
    ++p;
  }
  return p;
}

uint32_t Hex4(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = v * 16 + static_cast<uint32_t>(HexValue(s[at + i]));
  return v;
}

}  // namespace

std::string UnescapeJsonString(std::string_view token) {
  std::string out;
  const std::string_view s = token.substr(1, token.size() - 2);
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out.push_back(s[i]);
      continue;
    }
    const char e = s[++i];
    switch (e) {
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'u': {
        uint32_t cp = Hex4(s, i + 1);
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // A pair (the parser checked).
          const uint32_t low = Hex4(s, i + 3);
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        AppendUtf8(cp, &out);
        break;
      }
      default: out.push_back(e); break;  // " \ /
    }
  }
  return out;
}

std::string EscapeJsonString(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() + 2);
  out.push_back('"');
  for (unsigned char c : raw) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

struct JsonTree::Scratch {
  struct Frame {
    int node;
    bool object;
    bool first;            // Nothing after the opening bracket yet.
    size_t names_begin;    // Index into names.
    std::unordered_set<std::string_view>* hashed;
    uint32_t gap_begin;    // Where the text before the next child starts.
    uint64_t name_bits;    // A filter of the names seen (see NewName).
  };
  std::vector<Frame> stack;
  std::vector<std::string_view> names;
  std::deque<std::string> decoded;
  std::deque<std::unordered_set<std::string_view>> hashed;
};

// The parser: iterative (its own stack), so no text can exhaust the
// thread's stack.
class JsonTreeParser {
 public:
  JsonTreeParser(JsonTree* tree, std::string_view text, uint16_t source,
                 int node_depth)
      : t_(*tree), s_(text), source_(source), node_depth_(node_depth),
        scratch_(*tree->scratch_),
        stack_(scratch_.stack), names_(scratch_.names),
        decoded_(scratch_.decoded), hashed_(scratch_.hashed) {
    stack_.clear();
    names_.clear();
    decoded_.clear();
    hashed_.clear();
  }

  absl::Status Run(int* root) {
    if (std::memchr(s_.data(), '\0', s_.size()) != nullptr) {
      return absl::InvalidArgumentError("not valid JSON (it holds a NUL byte)");
    }
    if (!simdjson::validate_utf8(s_.data(), s_.size())) {
      return absl::InvalidArgumentError("not valid JSON (invalid UTF-8)");
    }
    SkipSpace();
    int first = Value(JsonTree::kNone);
    if (!error_.empty()) return Error();
    while (!stack_.empty() && error_.empty()) Step();
    if (!error_.empty()) return Error();
    SkipSpace();
    if (pos_ != s_.size()) {
      Fail("unexpected bytes after the value");
      return Error();
    }
    *root = first;
    return absl::OkStatus();
  }

 private:
  using Node = JsonTree::Node;
  using Type = JsonTree::Type;

  using Frame = JsonTree::Scratch::Frame;
  static constexpr int kSkipped = -2;

  absl::Status Error() const {
    return absl::InvalidArgumentError(error_);
  }
  void Fail(std::string_view why) {
    if (error_.empty()) {
      error_ = absl::StrCat("not valid JSON (", std::string(why), " at byte ", pos_, ")");
    }
  }

  void SkipSpace() {
    while (pos_ < s_.size() && IsSpace(s_[pos_])) ++pos_;
  }

  // A node for a value at the current depth; kSkipped below node_depth_.
  int NewNode(Type type, int parent) {
    if (static_cast<int>(stack_.size()) > node_depth_) return kSkipped;
    Node& n = t_.nodes_.emplace_back();
    n.type = type;
    n.source = source_;
    n.begin = static_cast<uint32_t>(pos_);
    n.parent = parent;
    const int id = static_cast<int>(t_.nodes_.size() - 1);
    if (parent >= 0) {
      Node& p = t_.nodes_[parent];
      if (p.last == JsonTree::kNone) {
        p.first = id;
      } else {
        t_.nodes_[p.last].next = id;
      }
      p.last = id;
      ++p.children;
      t_.nodes_[id].in_place = true;
    }
    return id;
  }

  // Parses one value at pos_; a container is opened (pushed) and finished
  // by Step(). Returns its node, or kNone on error.
  int Value(int parent) {
    if (pos_ >= s_.size()) {
      Fail("unexpected end");
      return JsonTree::kNone;
    }
    const char c = s_[pos_];
    if (c == '{' || c == '[') {
      if (stack_.size() >= static_cast<size_t>(kMaxJsonDepth)) {
        error_ = absl::StrCat("nested deeper than ", kMaxJsonDepth,
                              " arrays and objects");
        return JsonTree::kNone;
      }
      const int n = NewNode(c == '{' ? Type::kObject : Type::kArray,
                            parent < 0 ? JsonTree::kNone : parent);
      ++pos_;
      stack_.push_back(Frame{n, c == '{', true, names_.size(), nullptr,
                             static_cast<uint32_t>(pos_), 0});
      return n;
    }
    if (c == '"') {
      const int n = NewNode(Type::kString, parent);
      if (!String()) return JsonTree::kNone;
      if (n >= 0) t_.nodes_[n].end = static_cast<uint32_t>(pos_);
      return n;
    }
    if (c == '-' || IsDigit(c)) {
      const int n = NewNode(Type::kNumber, parent);
      if (!Number()) return JsonTree::kNone;
      if (n >= 0) t_.nodes_[n].end = static_cast<uint32_t>(pos_);
      return n;
    }
    Type literal;
    size_t len;
    switch (c) {
      case 't': literal = Type::kTrue; len = 4; break;
      case 'f': literal = Type::kFalse; len = 5; break;
      case 'n': literal = Type::kNull; len = 4; break;
      default: len = 0; literal = Type::kNull; break;
    }
    static constexpr std::string_view kWords[] = {"null", "false", "true"};
    if (len != 0 &&
        s_.substr(pos_, len) ==
            kWords[literal == Type::kNull ? 0 : literal == Type::kFalse ? 1 : 2]) {
      const int n = NewNode(literal, parent);
      pos_ += len;
      if (n >= 0) t_.nodes_[n].end = static_cast<uint32_t>(pos_);
      return n;
    }
    Fail("syntax error: a value was expected");
    return JsonTree::kNone;
  }

  bool String() {
    ++pos_;  // The opening quote.
    escaped_ = false;
    const char* const data = s_.data();
    const size_t size = s_.size();
    while (pos_ < size) {
      pos_ = PlainRun(data, pos_, size);
      if (pos_ >= size) break;
      const unsigned char c = static_cast<unsigned char>(data[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        Fail("a control character in a string");
        return false;
      }
      escaped_ = true;
      if (pos_ + 1 >= s_.size()) break;
      const char e = s_[pos_ + 1];
      if (std::strchr("\"\\/bfnrt", e) != nullptr && e != '\0') {
        pos_ += 2;
        continue;
      }
      if (e != 'u' || !Hex4At(pos_ + 2)) {
        Fail("an invalid escape in a string");
        return false;
      }
      const uint32_t cp = Hex4(s_, pos_ + 2);
      pos_ += 6;
      if (cp >= 0xDC00 && cp <= 0xDFFF) {
        Fail("a lone low surrogate escape");
        return false;
      }
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (pos_ + 6 > s_.size() || s_[pos_] != '\\' || s_[pos_ + 1] != 'u' ||
            !Hex4At(pos_ + 2)) {
          Fail("a high surrogate escape without its low surrogate");
          return false;
        }
        const uint32_t low = Hex4(s_, pos_ + 2);
        if (low < 0xDC00 || low > 0xDFFF) {
          Fail("a high surrogate escape without its low surrogate");
          return false;
        }
        pos_ += 6;
      }
    }
    Fail("an unterminated string");
    return false;
  }

  bool Hex4At(size_t at) const {
    if (at + 4 > s_.size()) return false;
    for (size_t i = 0; i < 4; ++i) {
      if (HexValue(s_[at + i]) < 0) return false;
    }
    return true;
  }

  bool Number() {
    if (s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size() || !IsDigit(s_[pos_])) {
      Fail("a malformed number");
      return false;
    }
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (pos_ >= s_.size() || !IsDigit(s_[pos_])) {
        Fail("a malformed number");
        return false;
      }
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (pos_ >= s_.size() || !IsDigit(s_[pos_])) {
        Fail("a malformed number");
        return false;
      }
      while (pos_ < s_.size() && IsDigit(s_[pos_])) ++pos_;
    }
    return true;
  }

  // The member name `token` of the top frame, unescaped: false if the
  // object has it already.
  bool NewName(Frame& f, std::string_view token, bool escaped) {
    std::string_view name = token.substr(1, token.size() - 2);
    if (escaped) {
      decoded_.push_back(UnescapeJsonString(token));
      name = decoded_.back();
    }
    if (f.hashed != nullptr) return f.hashed->insert(name).second;
    // A name whose filter bit is not set is new without comparing.
    const uint64_t bit =
        uint64_t{1} << ((name.size() * 31 +
                         (name.empty() ? 0 : static_cast<unsigned char>(name[0]) +
                                                 static_cast<unsigned char>(name.back()) * 7)) &
                        63);
    if ((f.name_bits & bit) != 0) {
      for (size_t i = f.names_begin; i < names_.size(); ++i) {
        if (names_[i] == name) return false;
      }
    }
    f.name_bits |= bit;
    names_.push_back(name);
    if (names_.size() - f.names_begin > kLinearNames) {
      hashed_.emplace_back();
      f.hashed = &hashed_.back();
      for (size_t i = f.names_begin; i < names_.size(); ++i) {
        f.hashed->insert(names_[i]);
      }
    }
    return true;
  }

  void Close(Frame& f) {
    ++pos_;
    if (f.node >= 0) {
      Node& n = t_.nodes_[f.node];
      n.tail_begin = f.gap_begin;
      n.end = static_cast<uint32_t>(pos_);
    }
    names_.resize(f.names_begin);
    stack_.pop_back();
    if (stack_.empty()) return;
    stack_.back().gap_begin = static_cast<uint32_t>(pos_);
  }

  // One step of the top container: its next member or element, or its end.
  void Step() {
    Frame& f = stack_.back();
    const uint32_t gap_begin = f.gap_begin;
    SkipSpace();
    if (pos_ >= s_.size()) {
      Fail("unexpected end");
      return;
    }
    const char close = f.object ? '}' : ']';
    if (s_[pos_] == close) {
      Close(f);
      return;
    }
    if (!f.first) {
      if (s_[pos_] != ',') {
        Fail(f.object ? "syntax error: ',' or '}' was expected"
                      : "syntax error: ',' or ']' was expected");
        return;
      }
      ++pos_;
      SkipSpace();
    }
    f.first = false;
    const int container = f.node;
    if (!f.object) {
      const uint32_t start = static_cast<uint32_t>(pos_);
      const size_t depth = stack_.size();
      const int n = Value(container);
      if (!error_.empty()) return;
      if (n >= 0) {
        Node& node = t_.nodes_[n];
        node.gap_begin = gap_begin;
        node.gap_end = start;
        node.head_end = start;
      }
      if (stack_.size() == depth) stack_.back().gap_begin = static_cast<uint32_t>(pos_);
      return;
    }
    if (pos_ >= s_.size() || s_[pos_] != '"') {
      Fail("syntax error: a member name was expected");
      return;
    }
    const uint32_t key_begin = static_cast<uint32_t>(pos_);
    if (!String()) return;
    const uint32_t key_end = static_cast<uint32_t>(pos_);
    const bool escaped = escaped_;
    if (!NewName(stack_.back(), s_.substr(key_begin, key_end - key_begin),
                 escaped)) {
      error_ = absl::StrCat(
          "duplicate member name \"",
          UnescapeJsonString(s_.substr(key_begin, key_end - key_begin))
              .substr(0, 80),
          "\"");
      return;
    }
    SkipSpace();
    if (pos_ >= s_.size() || s_[pos_] != ':') {
      Fail("syntax error: ':' was expected");
      return;
    }
    ++pos_;
    SkipSpace();
    const uint32_t value_begin = static_cast<uint32_t>(pos_);
    const size_t depth = stack_.size();
    const int n = Value(container);
    if (!error_.empty()) return;
    if (n >= 0) {
      Node& node = t_.nodes_[n];
      node.key_begin = key_begin;
      node.key_end = key_end;
      node.key_source = source_;
      node.key_escaped = escaped;
      node.has_head = true;
      node.gap_begin = gap_begin;
      node.gap_end = key_begin;
      node.head_end = value_begin;
    }
    if (stack_.size() == depth) stack_.back().gap_begin = static_cast<uint32_t>(pos_);
  }

  JsonTree& t_;
  std::string_view s_;
  uint16_t source_;
  int node_depth_;
  size_t pos_ = 0;
  bool escaped_ = false;
  std::string error_;
  JsonTree::Scratch& scratch_;
  std::vector<Frame>& stack_;
  std::vector<std::string_view>& names_;
  std::deque<std::string>& decoded_;
  std::deque<std::unordered_set<std::string_view>>& hashed_;
};

const char* JsonTree::TypeName(Type type) {
  switch (type) {
    case Type::kNull: return "null";
    case Type::kTrue:
    case Type::kFalse: return "boolean";
    case Type::kNumber: return "number";
    case Type::kString: return "string";
    case Type::kArray: return "array";
    case Type::kObject: return "object";
  }
  return "value";
}


absl::Status JsonTree::Parse(std::string_view text, int node_depth) {
  nodes_.clear();
  sources_.clear();
  owned_.clear();
  root_ = kNone;
  int root = kNone;
  absl::Status s = Run(text, node_depth, &root);
  if (s.ok()) root_ = root;
  return s;
}

absl::Status JsonTree::ParseMore(std::string_view text, int* root) {
  return Run(text, kAllDepths, root);
}

absl::Status JsonTree::Run(std::string_view text, int node_depth, int* root) {
  if (sources_.size() >= 65535) {
    return absl::ResourceExhaustedError("too many texts in one JSON tree");
  }
  if (scratch_ == nullptr) scratch_ = std::make_shared<Scratch>();
  JsonTreeParser parser(this, text, AddSource(text), node_depth);
  return parser.Run(root);
}

std::string JsonTree::Key(int n) const {
  const std::string_view token = KeyToken(n);
  if (!nodes_[n].key_escaped) return std::string(token.substr(1, token.size() - 2));
  return UnescapeJsonString(token);
}

int JsonTree::FindMember(int obj, std::string_view name) const {
  for (int c = nodes_[obj].first; c != kNone; c = nodes_[c].next) {
    const Node& node = nodes_[c];
    if (!node.key_escaped) {
      // The token is the name between quotes: compare sizes, then bytes.
      if (node.key_end - node.key_begin != name.size() + 2) continue;
      const char* key = sources_[node.key_source].data() + node.key_begin + 1;
      if (name.empty() || (key[0] == name[0] &&
                           std::memcmp(key, name.data(), name.size()) == 0)) {
        return c;
      }
    } else if (UnescapeJsonString(KeyToken(c)) == name) {
      return c;
    }
  }
  return kNone;
}

int JsonTree::Element(int arr, size_t index) const {
  if (index >= nodes_[arr].children) return kNone;
  int c = nodes_[arr].first;
  for (size_t i = 0; i < index; ++i) c = nodes_[c].next;
  return c;
}

void JsonTree::MarkChanged(int n) {
  while (n != kNone && !nodes_[n].changed) {
    nodes_[n].changed = true;
    n = nodes_[n].parent;
  }
}

int JsonTree::Prev(int n) const {
  const Node& node = nodes_[n];
  int prev = kNone;
  for (int c = nodes_[node.parent].first; c != n; c = nodes_[c].next) prev = c;
  return prev;
}

void JsonTree::Link(int container, int before, int n) {
  Node& p = nodes_[container];
  nodes_[n].parent = container;
  if (before == kNone) {
    nodes_[n].next = kNone;
    if (p.last == kNone) {
      p.first = n;
    } else {
      nodes_[p.last].next = n;
    }
    p.last = n;
    p.tail_intact = false;
  } else {
    const int prev = Prev(before);
    nodes_[n].next = before;
    if (prev == kNone) {
      p.first = n;
    } else {
      nodes_[prev].next = n;
    }
    nodes_[before].in_place = false;  // Its predecessor changed.
  }
  ++p.children;
  MarkChanged(container);
}

void JsonTree::Remove(int n) {
  const int container = nodes_[n].parent;
  Node& p = nodes_[container];
  const int prev = Prev(n);
  const int next = nodes_[n].next;
  if (prev == kNone) {
    p.first = next;
  } else {
    nodes_[prev].next = next;
  }
  if (next == kNone) {
    p.last = prev;
    p.tail_intact = false;
  } else {
    nodes_[next].in_place = false;
  }
  --p.children;
  nodes_[n].parent = kNone;
  nodes_[n].next = kNone;
  nodes_[n].in_place = false;
  MarkChanged(container);
}

void JsonTree::Replace(int old, int value) {
  const int container = nodes_[old].parent;
  if (container == kNone) {  // The root.
    root_ = value;
    nodes_[value].parent = kNone;
    nodes_[value].in_place = false;
    nodes_[value].has_head = false;
    return;
  }
  Node& v = nodes_[value];
  const Node& o = nodes_[old];
  // The value takes the old one's place: its name, the text before it.
  v.parent = container;
  v.next = o.next;
  v.key_begin = o.key_begin;
  v.key_end = o.key_end;
  v.key_source = o.key_source;
  v.key_escaped = o.key_escaped;
  v.gap_begin = o.gap_begin;
  v.gap_end = o.gap_end;
  v.head_end = o.head_end;
  v.slot_source = o.replaced ? o.slot_source : o.source;
  v.in_place = o.in_place;
  v.has_head = o.has_head;
  v.replaced = true;
  const int prev = Prev(old);
  Node& p = nodes_[container];
  if (prev == kNone) {
    p.first = value;
  } else {
    nodes_[prev].next = value;
  }
  if (p.last == old) p.last = value;
  nodes_[old].parent = kNone;
  nodes_[old].next = kNone;
  MarkChanged(container);
}

void JsonTree::AddMember(int obj, std::string_view name, int value) {
  owned_.push_back(EscapeJsonString(name));
  AddMemberToken(obj, owned_.back(), value);
}

void JsonTree::AddMemberToken(int obj, std::string_view token, int value) {
  const uint16_t s = AddSource(token);
  Node& v = nodes_[value];
  v.key_source = s;
  v.key_begin = 0;
  v.key_end = static_cast<uint32_t>(token.size());
  v.key_escaped = token.find('\\') != std::string_view::npos;
  v.in_place = false;
  v.has_head = false;
  v.replaced = false;
  Link(obj, kNone, value);
}

void JsonTree::InsertElement(int arr, size_t index, int value) {
  nodes_[value].in_place = false;
  nodes_[value].replaced = false;
  Link(arr, index >= nodes_[arr].children ? kNone : Element(arr, index), value);
}

int JsonTree::Clone(int n) { return CopyFrom(*this, n, 0); }

int JsonTree::CopyFrom(const JsonTree& other, int n, uint16_t source_offset) {
  // (source node, copy's parent) pairs still to copy; iterative. A copy
  // keeps its texts (through `source_offset`) and what it knows of its
  // slot; only the links are new. `other` may be this tree: nodes are
  // named by index, never held by reference across a push.
  std::vector<std::pair<int, int>>& todo = copy_stack_;
  todo.assign(1, {n, kNone});
  int root = kNone;
  while (!todo.empty()) {
    auto [from, parent] = todo.back();
    todo.pop_back();
    Node copy = other.nodes_[from];
    copy.source = static_cast<uint16_t>(copy.source + source_offset);
    copy.key_source = static_cast<uint16_t>(copy.key_source + source_offset);
    copy.slot_source = static_cast<uint16_t>(copy.slot_source + source_offset);
    copy.parent = parent;
    copy.first = copy.last = copy.next = kNone;
    copy.children = 0;
    if (parent == kNone) {
      copy.in_place = false;
      copy.has_head = false;
      copy.replaced = false;
    }
    nodes_.push_back(copy);
    const int id = static_cast<int>(nodes_.size() - 1);
    if (parent == kNone) {
      root = id;
    } else {
      Node& p = nodes_[parent];
      if (p.last == kNone) {
        p.first = id;
      } else {
        nodes_[p.last].next = id;
      }
      p.last = id;
      ++p.children;
    }
    // Pushed in reverse, so that they are copied (and linked) in order.
    const size_t mark = todo.size();
    for (int c = other.nodes_[from].first; c != kNone; c = other.nodes_[c].next) {
      todo.emplace_back(c, id);
    }
    std::reverse(todo.begin() + static_cast<std::ptrdiff_t>(mark), todo.end());
  }
  return root;
}

int JsonTree::NewScalar(Type type, std::string text) {
  owned_.push_back(std::move(text));
  return NewScalarView(type, owned_.back());
}

int JsonTree::NewScalarView(Type type, std::string_view text) {
  Node n;
  n.type = type;
  n.source = AddSource(text);
  n.begin = 0;
  n.end = static_cast<uint32_t>(text.size());
  nodes_.push_back(n);
  return static_cast<int>(nodes_.size() - 1);
}

int JsonTree::Import(const JsonTree& other, int n) {
  // The other tree's texts become sources here, in the same order.
  const uint16_t base = static_cast<uint16_t>(sources_.size());
  for (std::string_view src : other.sources_) AddSource(src);
  return CopyFrom(other, n, base);
}

int JsonTree::Level(int n) const {
  int level = 0;
  for (int p = nodes_[n].parent; p != kNone; p = nodes_[p].parent) ++level;
  return level;
}

int JsonTree::Depth(int n) const {
  if (!is_container(n)) return 0;
  // (node, its depth) still to visit; iterative.
  std::vector<std::pair<int, int>> todo = {{n, 1}};
  int deepest = 1;
  while (!todo.empty()) {
    auto [node, depth] = todo.back();
    todo.pop_back();
    deepest = std::max(deepest, depth);
    for (int c = nodes_[node].first; c != kNone; c = nodes_[c].next) {
      if (is_container(c)) todo.emplace_back(c, depth + 1);
    }
  }
  return deepest;
}

bool JsonTree::Equal(int a, int b) const {
  const Node& x = nodes_[a];
  const Node& y = nodes_[b];
  if (x.type != y.type) return false;
  switch (x.type) {
    case Type::kNull:
    case Type::kTrue:
    case Type::kFalse:
      return true;
    case Type::kNumber:
      return text(a) == text(b) || SameJsonNumber(text(a), text(b));
    case Type::kString:
      return text(a) == text(b) ||
             UnescapeJsonString(text(a)) == UnescapeJsonString(text(b));
    case Type::kArray: {
      if (x.children != y.children) return false;
      for (int c = x.first, d = y.first; c != kNone;
           c = nodes_[c].next, d = nodes_[d].next) {
        if (!Equal(c, d)) return false;
      }
      return true;
    }
    case Type::kObject: {
      if (x.children != y.children) return false;
      for (int c = x.first; c != kNone; c = nodes_[c].next) {
        const int d = FindMember(b, Key(c));
        if (d == kNone || !Equal(c, d)) return false;
      }
      return true;
    }
  }
  return false;
}

std::string JsonTree::Serialize() const {
  std::string out;
  if (!sources_.empty()) out.reserve(sources_[0].size() + 64);
  if (root_ != kNone) SerializeTo(root_, &out);
  return out;
}

void JsonTree::SerializeTo(int n, std::string* out) const {
  const Node& node = nodes_[n];
  if (!node.changed) {
    out->append(text(n));
    return;
  }
  const bool object = node.type == Type::kObject;
  const std::string_view own = Source(node.source);
  out->push_back(object ? '{' : '[');
  // Children that stand where they were and are unchanged lie in one run
  // of the container's own text, separators included: written by one
  // append.
  size_t run_begin = 0, run_end = 0;
  auto flush = [&] {
    if (run_end > run_begin) out->append(own.substr(run_begin, run_end - run_begin));
    run_begin = run_end = 0;
  };
  bool first = true;
  for (int c = node.first; c != kNone; c = nodes_[c].next) {
    const Node& child = nodes_[c];
    if (child.in_place && !child.replaced && !child.changed &&
        child.source == node.source) {
      if (run_end != child.gap_begin) {
        flush();
        run_begin = child.gap_begin;
      }
      run_end = child.end;
      first = false;
      continue;
    }
    flush();
    // The text before the child (its separator), then its name and colon.
    const uint16_t slot = child.replaced ? child.slot_source : child.source;
    if (child.in_place) {
      out->append(Source(slot).substr(child.gap_begin,
                                      child.gap_end - child.gap_begin));
    } else if (!first) {
      out->push_back(',');
    }
    first = false;
    if (object) {
      if (child.has_head) {
        out->append(Source(child.key_source)
                        .substr(child.key_begin, child.head_end - child.key_begin));
      } else {
        out->append(KeyToken(c));
        out->push_back(':');
      }
    }
    SerializeTo(c, out);
  }
  flush();
  if (node.tail_intact) {
    out->append(own.substr(node.tail_begin, node.end - 1 - node.tail_begin));
  }
  out->push_back(object ? '}' : ']');
}

}  // namespace rocksmigrate
