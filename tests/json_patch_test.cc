// The byte-preserving JSON Patch engine (src/json_patch.h, src/json_tree.h):
// RFC 6902 section by section and its appendix A examples, RFC 6901
// pointers, what keeps its bytes, and a property test against nlohmann's
// own patch() on random records and patches.
#include "src/json_patch.h"

#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rocksmigrate/patch_migration.h"
#include "src/json_tree.h"
#include "tests/testutil/test_db.h"

namespace rocksmigrate {
namespace {

using ::rocksmigrate::testing::IsOk;
using ::rocksmigrate::testing::StatusIs;
using ::testing::HasSubstr;
using nlohmann::json;

// Applies `patch` to `doc`; the result's text, or the error.
absl::StatusOr<std::string> Patch(const std::string& doc,
                                  const std::string& patch) {
  auto compiled = JsonPatch::Compile(patch);
  if (!compiled.ok()) return compiled.status();
  JsonTree tree;
  absl::Status s = tree.Parse(doc);
  if (!s.ok()) return s;
  s = compiled->Apply(&tree);
  if (!s.ok()) return s;
  return tree.Serialize();
}

// The result must equal `expected` as JSON (objects unordered).
void ExpectResult(const std::string& doc, const std::string& patch,
                  const std::string& expected) {
  auto r = Patch(doc, patch);
  ASSERT_THAT(r, IsOk()) << patch;
  EXPECT_EQ(json::parse(*r), json::parse(expected)) << *r;
}

void ExpectError(const std::string& doc, const std::string& patch,
                 const std::string& what) {
  auto r = Patch(doc, patch);
  ASSERT_FALSE(r.ok()) << "applied: " << *r;
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(what));
}

// --- RFC 6902, Appendix A ---

TEST(Rfc6902AppendixA, A1AddingAnObjectMember) {
  ExpectResult(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])",
               R"({"baz":"qux","foo":"bar"})");
}
TEST(Rfc6902AppendixA, A2AddingAnArrayElement) {
  ExpectResult(R"({"foo":["bar","baz"]})",
               R"([{"op":"add","path":"/foo/1","value":"qux"}])",
               R"({"foo":["bar","qux","baz"]})");
}
TEST(Rfc6902AppendixA, A3RemovingAnObjectMember) {
  ExpectResult(R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])",
               R"({"foo":"bar"})");
}
TEST(Rfc6902AppendixA, A4RemovingAnArrayElement) {
  ExpectResult(R"({"foo":["bar","qux","baz"]})",
               R"([{"op":"remove","path":"/foo/1"}])", R"({"foo":["bar","baz"]})");
}
TEST(Rfc6902AppendixA, A5ReplacingAValue) {
  ExpectResult(R"({"baz":"qux","foo":"bar"})",
               R"([{"op":"replace","path":"/baz","value":"boo"}])",
               R"({"baz":"boo","foo":"bar"})");
}
TEST(Rfc6902AppendixA, A6MovingAValue) {
  ExpectResult(R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
               R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])",
               R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})");
}
TEST(Rfc6902AppendixA, A7MovingAnArrayElement) {
  ExpectResult(R"({"foo":["all","grass","cows","eat"]})",
               R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])",
               R"({"foo":["all","cows","eat","grass"]})");
}
TEST(Rfc6902AppendixA, A8TestingAValueSuccess) {
  ExpectResult(R"({"baz":"qux","foo":["a",2,"c"]})",
               R"([{"op":"test","path":"/baz","value":"qux"},
                   {"op":"test","path":"/foo/1","value":2}])",
               R"({"baz":"qux","foo":["a",2,"c"]})");
}
TEST(Rfc6902AppendixA, A9TestingAValueError) {
  ExpectError(R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])",
              "test failed");
}
TEST(Rfc6902AppendixA, A10AddingANestedMemberObject) {
  ExpectResult(R"({"foo":"bar"})",
               R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])",
               R"({"foo":"bar","child":{"grandchild":{}}})");
}
TEST(Rfc6902AppendixA, A11IgnoringUnrecognizedElements) {
  ExpectResult(R"({"foo":"bar"})",
               R"([{"op":"add","path":"/baz","value":"qux","xyz":123}])",
               R"({"foo":"bar","baz":"qux"})");
}
TEST(Rfc6902AppendixA, A12AddingToANonexistentTarget) {
  ExpectError(R"({"foo":"bar"})", R"([{"op":"add","path":"/baz/bat","value":"qux"}])",
              "parent of /baz/bat does not exist");
}
TEST(Rfc6902AppendixA, A13InvalidJsonPatchDocument) {
  EXPECT_THAT(JsonPatch::Compile(
                  R"([{"op":"add","path":"/baz","value":"qux","op":"remove"}])")
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}
TEST(Rfc6902AppendixA, A14EscapeOrdering) {
  ExpectResult(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10}])",
               R"({"/":9,"~1":10})");
}
TEST(Rfc6902AppendixA, A15ComparingStringsAndNumbers) {
  ExpectError(R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":"10"}])",
              "test failed");
}
TEST(Rfc6902AppendixA, A16AddingAnArrayValue) {
  ExpectResult(R"({"foo":["bar"]})",
               R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])",
               R"({"foo":["bar",["abc","def"]]})");
}

// --- RFC 6902 §4, operation by operation ---

TEST(Rfc6902Add, ReplacesAnExistingMemberAndTheWholeDocument) {
  ExpectResult(R"({"a":1,"b":2})", R"([{"op":"add","path":"/a","value":3}])",
               R"({"a":3,"b":2})");
  ExpectResult(R"({"a":1})", R"([{"op":"add","path":"","value":{"z":0}}])",
               R"({"z":0})");
}
TEST(Rfc6902Add, ArrayIndexMayBeTheSizeButNotMore) {
  ExpectResult(R"({"t":[1]})", R"([{"op":"add","path":"/t/1","value":2}])",
               R"({"t":[1,2]})");
  ExpectError(R"({"t":[1]})", R"([{"op":"add","path":"/t/2","value":2}])",
              "out of range");
  ExpectError(R"({"t":[1]})", R"([{"op":"add","path":"/t/01","value":2}])",
              "out of range");
  ExpectError(R"({"t":[1]})", R"([{"op":"add","path":"/t/x","value":2}])",
              "out of range");
}
TEST(Rfc6902Add, ParentMustBeAContainer) {
  ExpectError(R"({"s":"x"})", R"([{"op":"add","path":"/s/a","value":1}])",
              "not an object or array");
}
TEST(Rfc6902Remove, TargetMustExist) {
  ExpectError(R"({"a":1})", R"([{"op":"remove","path":"/b"}])", "/b does not exist");
  ExpectError(R"({"t":[1]})", R"([{"op":"remove","path":"/t/-"}])",
              "/t/- does not exist");
}
TEST(Rfc6902Replace, TargetMustExistAndTheRootIsATarget) {
  ExpectError(R"({"a":1})", R"([{"op":"replace","path":"/b","value":1}])",
              "/b does not exist");
  ExpectResult(R"({"a":1})", R"([{"op":"replace","path":"","value":{"b":2}}])",
               R"({"b":2})");
}
TEST(Rfc6902Move, FromMustExistEvenWhenItIsThePath) {
  // RFC 6902 §4.4: the "from" location MUST exist.
  ExpectError(R"({"a":1})", R"([{"op":"move","from":"/b","path":"/b"}])",
              "/b does not exist");
  ExpectResult(R"({"a":1})", R"([{"op":"move","from":"/a","path":"/a"}])",
               R"({"a":1})");
}
TEST(Rfc6902Move, IntoItselfIsRefused) {
  EXPECT_THAT(JsonPatch::Compile(R"([{"op":"move","from":"/a","path":"/a/b"}])")
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}
TEST(Rfc6902Move, ReplacesAnExistingTarget) {
  ExpectResult(R"({"a":1,"b":2})", R"([{"op":"move","from":"/a","path":"/b"}])",
               R"({"b":1})");
}
TEST(Rfc6902Copy, CopiesADeepValue) {
  ExpectResult(R"({"a":{"x":[1,{"y":2}]}})",
               R"([{"op":"copy","from":"/a","path":"/b"},
                   {"op":"add","path":"/b/x/-","value":3}])",
               R"({"a":{"x":[1,{"y":2}]},"b":{"x":[1,{"y":2},3]}})");
  ExpectError(R"({"a":1})", R"([{"op":"copy","from":"/z","path":"/b"}])",
              "/z does not exist");
}
TEST(Rfc6902Test, ObjectsCompareAsSetsOfMembers) {
  ExpectResult(R"({"o":{"a":1,"b":2}})",
               R"([{"op":"test","path":"/o","value":{"b":2,"a":1}}])",
               R"({"o":{"a":1,"b":2}})");
  ExpectError(R"({"o":{"a":1,"b":2}})",
              R"([{"op":"test","path":"/o","value":{"a":1}}])", "test failed");
}
TEST(Rfc6902Test, ArraysCompareElementByElement) {
  ExpectError(R"({"t":[1,2]})", R"([{"op":"test","path":"/t","value":[2,1]}])",
              "test failed");
}
TEST(Rfc6902Test, NumbersCompareByExactValue) {
  const std::string doc =
      R"({"i":1,"big":123456789012345678901234567890,"neg":-1,"d":0.1})";
  for (const char* equal : {R"("/i","value":1.0)", R"("/i","value":1e0)",
                            R"("/big","value":123456789012345678901234567890)",
                            R"("/big","value":1.2345678901234567890123456789e29)",
                            R"("/d","value":1e-1)"}) {
    ExpectResult(doc, absl::StrCat(R"([{"op":"test","path":)", equal, "}]"), doc);
  }
  // Never through a double, never by casting.
  for (const char* differ : {R"("/neg","value":18446744073709551615)",
                             R"("/big","value":123456789012345678901234567891)",
                             R"("/d","value":0.10000000000000001)"}) {
    ExpectError(doc, absl::StrCat(R"([{"op":"test","path":)", differ, "}]"),
                "test failed");
  }
}
TEST(Rfc6902Test, StringsCompareByTheirCharacters) {
  ExpectResult(R"({"s":"a\u00e9"})",
               "[{\"op\":\"test\",\"path\":\"/s\",\"value\":\"a\xc3\xa9\"}]",
               R"({"s":"a\u00e9"})");
  ExpectError(R"({"n":null})", R"([{"op":"test","path":"/n","value":false}])",
              "test failed");
}
TEST(Rfc6902ErrorHandling, TheFirstFailingOperationStopsThePatch) {
  ExpectError(R"({"a":1})",
              R"([{"op":"add","path":"/b","value":2},{"op":"remove","path":"/z"},
                  {"op":"add","path":"/c","value":3}])",
              "op 2 (remove /z)");
}

TEST(Bounds, ACopyThatWouldNestPastTheBoundIsAnError) {
  std::string deep = "{\"a\":";
  for (int i = 0; i < 200; ++i) deep += "[";
  for (int i = 0; i < 200; ++i) deep += "]";
  deep += "}";
  // Copying a 200-deep value 200 levels down would make a 401-deep record.
  std::string path = "/a";
  for (int i = 0; i < 199; ++i) path += "/0";
  ExpectError(deep,
              absl::StrCat(R"([{"op":"copy","from":"/a","path":")", path, R"(/0"}])"),
              "deeper than 256");
}

// --- RFC 6901 ---

TEST(Rfc6901, PointersUnescapeTildesInTheRightOrder) {
  auto p = ParseJsonPointer("/a~1b/c~0d/~01/");
  ASSERT_THAT(p, IsOk());
  EXPECT_THAT(*p, ::testing::ElementsAre("a/b", "c~d", "~1", ""));
  EXPECT_FALSE(ParseJsonPointer("a").ok());
  EXPECT_FALSE(ParseJsonPointer("/a~2").ok());
  EXPECT_FALSE(ParseJsonPointer("/a~").ok());
  EXPECT_TRUE(ParseJsonPointer("").ok());
}
TEST(Rfc6901, TheEmptyNameAndEscapedNamesAreMembersLikeOthers) {
  ExpectResult(R"({"":1,"a/b":2})",
               R"([{"op":"replace","path":"/","value":9},
                   {"op":"remove","path":"/a~1b"}])",
               R"({"":9})");
  // A member name written with escapes matches its characters.
  ExpectResult(R"({"\u0061":1})", R"([{"op":"replace","path":"/a","value":2}])",
               R"({"a":2})");
}

// --- What keeps its bytes ---

TEST(Bytes, UntouchedMembersKeepTheirExactBytes) {
  const std::string doc =
      "{ \"n\" : -0 ,\n  \"big\": 123456789012345678901234567890,\n"
      "  \"e\":1.5e3, \"s\": \"caf\\u00e9\\n\", \"o\": { \"k\" : [ 1 , 2 ] } }";
  auto r = Patch(doc, R"([{"op":"add","path":"/new","value":[]}])");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(*r, doc.substr(0, doc.size() - 2) + ",\"new\":[]}");
}
TEST(Bytes, AReplacedMemberKeepsItsNameAndSpacing) {
  auto r = Patch("{\"a\" :  1 , \"b\":2}", R"([{"op":"replace","path":"/a","value":7}])");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(*r, "{\"a\" :  7 , \"b\":2}");
}
TEST(Bytes, ARemovedMemberTakesOnlyItsOwnBytes) {
  auto r = Patch("{ \"a\": 1,  \"b\": 2,  \"c\": 3 }",
                 R"([{"op":"remove","path":"/b"}])");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(*r, "{ \"a\": 1,\"c\": 3 }");
}
TEST(Bytes, APatchValueKeepsItsBytesFromTheFile) {
  auto r = Patch(R"({"a":1})",
                 R"([{"op":"add","path":"/v","value":{ "x" : 1.50, "y": 1e400 }}])");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(*r, R"({"a":1,"v":{ "x" : 1.50, "y": 1e400 }})");
}
TEST(Bytes, AnUntouchedNestedContainerIsCopiedWhole) {
  const std::string inner = "[ 1, {\"deep\" : \"\\u0041\"} ]";
  auto r = Patch(absl::StrCat("{\"keep\":", inner, ",\"x\":0}"),
                 R"([{"op":"replace","path":"/x","value":1}])");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(*r, absl::StrCat("{\"keep\":", inner, ",\"x\":1}"));
}
TEST(Bytes, AMovedValueKeepsItsBytes) {
  auto r = Patch(R"({"a":{ "k" : 1.0 },"b":0})",
                 R"([{"op":"move","from":"/a","path":"/c"}])");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(*r, R"({"b":0,"c":{ "k" : 1.0 }})");
}

// --- The migration around the engine ---

TEST(PatchMigrationTest, StampsTheVersionInPlaceOrAtTheEnd) {
  auto m = PatchMigration::Create(1, "m", "t:", "[]");
  ASSERT_THAT(m, IsOk());
  auto r = (*m)->Migrate("t:1", "{ \"schema_version\" : 1, \"a\": -0 }");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), "{ \"schema_version\" : 2, \"a\": -0 }");
  r = (*m)->Migrate("t:1", R"({"a":1})");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->value(), R"({"a":1,"schema_version":2})");
  r = (*m)->Migrate("t:1", R"({"schema_version":2})");
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(r->kind(), ItemResult::Kind::kKeep);
  r = (*m)->Migrate("t:1", R"({"schema_version":99999999999999999999999})");
  ASSERT_THAT(r, IsOk());
  EXPECT_TRUE(r->newer());
  EXPECT_FALSE((*m)->Migrate("t:1", R"({"schema_version":1.0})").ok());
  EXPECT_FALSE((*m)->Migrate("t:1", R"({"schema_version":"1"})").ok());
  EXPECT_FALSE((*m)->Migrate("t:1", R"({"a":1,"a":2})").ok());
  EXPECT_FALSE(PatchMigration::Create(1, "m", "t:", R"([{"op":"x"}])").ok());
}

// --- Property: against nlohmann's own patch, where its DOM is exact ---

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }

  // A value of small integers, short strings, literals, arrays and
  // objects, with random whitespace; depth bounded.
  std::string Value(int depth) {
    switch (depth > 2 ? Pick(4) : Pick(6)) {
      case 0: return std::to_string(Pick(100) - 50);
      case 1: return absl::StrCat("\"", Name(), "\"");
      case 2: return Pick(2) ? "true" : (Pick(2) ? "false" : "null");
      case 3: return absl::StrCat("\"", Name(), "\\n\"");
      case 4: {
        std::string out = "[" + Space();
        const int n = Pick(4);
        for (int i = 0; i < n; ++i) {
          if (i > 0) out += Space() + "," + Space();
          out += Value(depth + 1);
        }
        return out + Space() + "]";
      }
      default: {
        std::string out = "{" + Space();
        const int n = Pick(5);
        std::vector<std::string> used;
        for (int i = 0; i < n; ++i) {
          std::string k = Name();
          if (std::find(used.begin(), used.end(), k) != used.end()) continue;
          used.push_back(k);
          if (!used.empty() && used.size() > 1) out += Space() + "," + Space();
          out += absl::StrCat("\"", k, "\"", Space(), ":", Space(), Value(depth + 1));
        }
        return out + Space() + "}";
      }
    }
  }

  std::string Name() {
    static const char* const kNames[] = {"a", "b", "c", "d", "e/f", "g~h", "0", ""};
    return kNames[Pick(8)];
  }
  std::string Space() {
    static const char* const kSpaces[] = {"", "", "", " ", "\n  "};
    return kSpaces[Pick(5)];
  }

  // A pointer into `doc` (an existing location most of the time).
  std::string Pointer(const json& doc, bool for_add) {
    std::string p;
    const json* node = &doc;
    while (node->is_structured() && !node->empty() && Pick(3) != 0) {
      if (node->is_object()) {
        auto it = node->begin();
        std::advance(it, Pick(static_cast<int>(node->size())));
        p += "/" + Escape(it.key());
        node = &it.value();
      } else {
        const int i = Pick(static_cast<int>(node->size()));
        p += "/" + std::to_string(i);
        node = &(*node)[static_cast<size_t>(i)];
      }
    }
    if (for_add && node->is_object() && Pick(2)) p += "/" + Escape(Name());
    if (for_add && node->is_array() && Pick(2)) p += Pick(2) ? "/-" : "/0";
    if (Pick(8) == 0) p += "/zz";  // Sometimes a location that is not there.
    return p;
  }
  static std::string Escape(const std::string& token) {
    std::string out;
    for (char c : token) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out.push_back(c);
      }
    }
    return out;
  }

  std::string Op(const json& doc) {
    static const char* const kOps[] = {"add", "remove", "replace", "move", "copy", "test"};
    const std::string op = kOps[Pick(6)];
    json o = {{"op", op}};
    o["path"] = Pointer(doc, op == "add" || op == "move" || op == "copy");
    if (op == "add" || op == "replace" || op == "test") {
      o["value"] = json::parse(Value(1));
      if (op == "test" && Pick(2)) {
        // Often test the value that is there.
        try {
          o["value"] = doc.at(json::json_pointer(o["path"].get<std::string>()));
        } catch (...) {
        }
      }
    }
    if (op == "move" || op == "copy") o["from"] = Pointer(doc, false);
    return o.dump();
  }

 private:
  std::mt19937_64 rng_;
};

// nlohmann 3.11 asserts (aborts) on an add under a scalar: the reference is
// asked only what it can answer.
bool ParentIsAContainer(const json& doc, const std::string& path) {
  if (path.empty()) return true;
  try {
    json::json_pointer p(path);
    if (p.empty()) return true;
    const json& parent = doc.at(p.parent_pointer());
    return parent.is_structured();
  } catch (...) {
    return true;  // The reference throws: a clean error, comparable.
  }
}

TEST(JsonPatchProperty, AgreesWithNlohmannAndKeepsUntouchedBytes) {
  int compared = 0, errors = 0;
  for (uint64_t seed = 1; seed <= 3000; ++seed) {
    Generator g(seed);
    std::string doc = g.Value(0);
    if (doc[0] != '{') doc = absl::StrCat("{\"root\":", doc, "}");
    json reference = json::parse(doc);
    std::vector<std::string> ops;
    bool comparable = true;
    const int n = 1 + g.Pick(4);
    for (int i = 0; i < n; ++i) ops.push_back(g.Op(reference));
    std::string patch = "[";
    for (size_t i = 0; i < ops.size(); ++i) {
      patch += (i ? "," : "") + ops[i];
    }
    patch += "]";
    // The reference, op by op.
    bool reference_failed = false;
    json expected = reference;
    for (const std::string& op : ops) {
      json o = json::parse(op);
      if (!ParentIsAContainer(expected, o["path"].get<std::string>())) {
        comparable = false;
        break;
      }
      // nlohmann removes, then adds, even when "from" is the path: moving
      // the whole document onto itself fails there; RFC 6902 §4.4 makes it
      // a no-op once "from" exists.
      if (o["op"] == "move" && o["from"] == o["path"]) {
        if (!expected.contains(json::json_pointer(o["from"].get<std::string>()))) {
          reference_failed = true;
          break;
        }
        continue;
      }
      try {
        expected = expected.patch(json::array({o}));
      } catch (const std::exception&) {
        reference_failed = true;
        break;
      }
    }
    auto got = Patch(doc, patch);
    if (!comparable) continue;
    ++compared;
    SCOPED_TRACE(absl::StrCat("seed ", seed, "\ndoc ", doc, "\npatch ", patch));
    if (reference_failed) {
      ++errors;
      EXPECT_FALSE(got.ok()) << *got << "\nseed " << seed << "\ndoc " << doc
                             << "\npatch " << patch;
      continue;
    }
    ASSERT_THAT(got, IsOk());
    EXPECT_EQ(json::parse(*got), expected);
    // A top-level member no operation names keeps its exact bytes (unless
    // an operation replaces the whole record).
    if (patch.find(R"("path":"")") != std::string::npos) continue;
    json parsed = json::parse(doc);
    for (auto it = parsed.begin(); it != parsed.end(); ++it) {
      const std::string token = "/" + Generator::Escape(it.key());
      if (patch.find(absl::StrCat("\"", token)) != std::string::npos) continue;
      if (it.key().empty()) continue;
      JsonTree t;
      ASSERT_THAT(t.Parse(doc), IsOk());
      const int member = t.FindMember(t.root(), it.key());
      ASSERT_NE(member, JsonTree::kNone);
      EXPECT_NE(got->find(std::string(t.text(member))), std::string::npos)
          << it.key();
    }
  }
  EXPECT_GT(compared, 2000);
  EXPECT_GT(errors, 100);
}

}  // namespace
}  // namespace rocksmigrate
