#include "src/json_parse.h"

#include <cmath>
#include <limits>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "src/json_number.h"

namespace rocksmigrate {
namespace {

// Past this many members an object's names go into a hash set; below it a
// linear scan of the names is cheaper.
constexpr size_t kLinearNameScan = 16;

// Error texts quote at most this much of the input.
constexpr size_t kMaxQuoted = 80;

std::string ParseErrorText(const nlohmann::detail::exception& ex) {
  std::string what = ex.what();
  // Drop nlohmann's "[json.exception.parse_error.101] " tag and any quoted
  // input beyond a line's worth.
  if (!what.empty() && what.front() == '[') {
    size_t close = what.find("] ");
    if (close != std::string::npos) what.erase(0, close + 2);
  }
  if (what.size() > kMaxQuoted + 60) {
    what.resize(kMaxQuoted + 60);
    what += "...";
  }
  return what;
}

// Names seen in one open object.
class NameSet {
 public:
  // False if `name` was seen before in this object.
  bool Insert(const std::string& name) {
    if (hashed_.empty() && names_.size() < kLinearNameScan) {
      for (const std::string& n : names_) {
        if (n == name) return false;
      }
      names_.push_back(name);
      return true;
    }
    if (hashed_.empty()) {
      for (std::string& n : names_) hashed_.insert(std::move(n));
      names_.clear();
    }
    return hashed_.insert(name).second;
  }

 private:
  std::vector<std::string> names_;
  std::unordered_set<std::string> hashed_;
};

// The checks every parse makes, as a SAX handler; `Dom` builds the value
// (or, when it is void, nothing is built).
template <typename J, bool kBuild>
class ExactSax : public nlohmann::json_sax<J> {
 public:
  using typename nlohmann::json_sax<J>::number_integer_t;
  using typename nlohmann::json_sax<J>::number_unsigned_t;
  using typename nlohmann::json_sax<J>::number_float_t;
  using typename nlohmann::json_sax<J>::string_t;
  using typename nlohmann::json_sax<J>::binary_t;

  explicit ExactSax(J* root) : root_(root) {}

  bool null() override {
    if (AtSchemaVersion()) scan_.schema_version_text = "null";
    return Value(nullptr, "null");
  }
  bool boolean(bool b) override {
    if (AtSchemaVersion()) scan_.schema_version_text = b ? "true" : "false";
    return Value(b, "boolean");
  }
  bool number_integer(number_integer_t v) override {
    if (AtSchemaVersion()) {
      scan_.schema_version_text = std::to_string(v);
      if (v >= 0) scan_.schema_version = v;
    }
    return Value(v, "number");
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (AtSchemaVersion()) {
      scan_.schema_version_text = std::to_string(v);
      scan_.schema_version = static_cast<int64_t>(std::min<uint64_t>(
          v, static_cast<uint64_t>(std::numeric_limits<int64_t>::max())));
    }
    return Value(v, "number");
  }
  bool number_float(number_float_t v, const string_t& raw) override {
    // nlohmann holds this number as a double (an integer beyond 64 bits
    // lands here too) and prints it back with the shortest digits that
    // round-trip; refuse it unless that is the same value as the text.
    if (!std::isfinite(v) || !SameJsonNumber(raw, J(v).dump())) {
      return Fail(absl::StrCat(
          "the number ", Clip(raw),
          " cannot be held exactly (beyond 64-bit integers and double "
          "precision)"));
    }
    if (AtSchemaVersion()) scan_.schema_version_text = raw;
    return Value(v, "number");
  }
  bool string(string_t& s) override {
    if (AtSchemaVersion()) {
      scan_.schema_version_text = absl::StrCat("\"", Clip(s), "\"");
    }
    if constexpr (kBuild) {
      return Value(std::move(s), "string");
    } else {
      return Value(nullptr, "string");
    }
  }
  bool binary(binary_t&) override { return Fail("binary values are not JSON"); }

  bool start_object(std::size_t) override {
    if (!Open("object")) return false;
    names_.emplace_back();
    if constexpr (kBuild) Push(J::object());
    return true;
  }
  bool key(string_t& name) override {
    if (!names_.back().Insert(name)) {
      return Fail(absl::StrCat("duplicate member name \"", Clip(name), "\""));
    }
    key_ = std::move(name);
    return true;
  }
  bool end_object() override {
    names_.pop_back();
    return Close();
  }
  bool start_array(std::size_t) override {
    if (!Open("array")) return false;
    names_.emplace_back();  // Unused; keeps one entry per open container.
    if constexpr (kBuild) Push(J::array());
    return true;
  }
  bool end_array() override {
    names_.pop_back();
    return Close();
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    (void)position;
    // A number whose magnitude no double holds ("1e400") is valid JSON;
    // nlohmann's lexer reports it as an overflow.
    const std::string text = ParseErrorText(ex);
    const std::string overflow = "number overflow parsing '";
    const size_t at = text.find(overflow);
    if (at != std::string::npos) {
      const size_t begin = at + overflow.size();
      const size_t end = text.find('\'', begin);
      return Fail(absl::StrCat(
          "the number ", text.substr(begin, end - begin),
          " cannot be held exactly (beyond 64-bit integers and double "
          "precision)"));
    }
    return Fail(absl::StrCat("not valid JSON (", text, ")"));
  }

  const std::string& error() const { return error_; }
  RecordScan& scan() { return scan_; }

 private:
  static std::string Clip(const std::string& text) {
    if (text.size() <= kMaxQuoted) return text;
    return absl::StrCat(text.substr(0, kMaxQuoted), "...");
  }

  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  bool AtSchemaVersion() const {
    return depth_ == 1 && top_is_object_ && key_ == "schema_version";
  }

  bool Open(const char* type) {
    if (AtSchemaVersion()) scan_.schema_version_text = absl::StrCat("an ", type);
    if (depth_ == 0) {
      scan_.type = type;
      top_is_object_ = std::string_view(type) == "object";
    }
    if (++depth_ > kMaxJsonDepth) {
      return Fail(absl::StrCat("nested deeper than ", kMaxJsonDepth,
                               " arrays and objects"));
    }
    return true;
  }

  bool Close() {
    --depth_;
    if constexpr (kBuild) stack_.pop_back();
    if (depth_ == 1) key_.clear();
    return true;
  }

  template <typename V>
  bool Value(V&& v, const char* type) {
    if (depth_ == 0) scan_.type = type;
    if constexpr (kBuild) Place(J(std::forward<V>(v)));
    if (depth_ == 1) key_.clear();
    return true;
  }

  // Puts `value` where the parse is: the root, the next array element, or
  // the member named key_. Returns the placed value.
  J* Place(J value) {
    if (stack_.empty()) {
      *root_ = std::move(value);
      return root_;
    }
    J& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    auto& object = parent.template get_ref<typename J::object_t&>();
    using Object = std::decay_t<decltype(object)>;
    if constexpr (std::is_same_v<Object, typename Json::object_t>) {
      // ordered_map's own insert scans every member for the name; the name
      // is known to be new, so append to its vector directly (O(1)).
      auto& members = static_cast<typename Object::Container&>(object);
      members.emplace_back(key_, std::move(value));
      return &members.back().second;
    } else {
      auto it = object.emplace(key_, std::move(value)).first;
      return &it->second;
    }
  }

  void Push(J container) { stack_.push_back(Place(std::move(container))); }

  J* root_;
  std::vector<J*> stack_;
  std::vector<NameSet> names_;
  std::string key_;
  int depth_ = 0;
  bool top_is_object_ = false;
  std::string error_;
  RecordScan scan_;
};

template <typename J, bool kBuild>
absl::Status Run(std::string_view text, J* out, RecordScan* scan) {
  if (text.find('\0') != std::string_view::npos) {
    // nlohmann's lexer would stop at it; no JSON text holds a raw NUL.
    return absl::InvalidArgumentError("not valid JSON (it holds a NUL byte)");
  }
  ExactSax<J, kBuild> sax(out);
  const bool ok = J::sax_parse(text.begin(), text.end(), &sax,
                               nlohmann::detail::input_format_t::json,
                               /*strict=*/true);
  if (!ok) {
    return absl::InvalidArgumentError(
        sax.error().empty() ? std::string("not valid JSON") : sax.error());
  }
  if (scan != nullptr) *scan = std::move(sax.scan());
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseJsonExactly(std::string_view text, Json* out) {
  *out = Json();
  return Run<Json, true>(text, out, nullptr);
}

absl::Status ParseJsonExactly(std::string_view text, nlohmann::json* out) {
  *out = nlohmann::json();
  return Run<nlohmann::json, true>(text, out, nullptr);
}

absl::StatusOr<RecordScan> ScanJsonRecord(std::string_view text) {
  RecordScan scan;
  absl::Status s = Run<Json, false>(text, nullptr, &scan);
  if (!s.ok()) return s;
  return scan;
}

int JsonDepth(const Json& value, int limit) {
  // (node, its depth) pairs still to visit.
  std::vector<std::pair<const Json*, int>> todo = {{&value, 0}};
  int deepest = 0;
  while (!todo.empty()) {
    auto [node, depth] = todo.back();
    todo.pop_back();
    if (!node->is_structured()) continue;
    const int inner = depth + 1;
    if (inner > deepest) deepest = inner;
    if (deepest > limit) return deepest;
    for (const Json& child : *node) {
      if (child.is_structured()) todo.emplace_back(&child, inner);
    }
  }
  return deepest;
}

}  // namespace rocksmigrate
