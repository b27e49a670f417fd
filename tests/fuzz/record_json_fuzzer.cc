// Fuzz target: the two JSON parsers every record goes through (SPEC
// §8.11): the exact nlohmann one (C++ JsonMigration) and the byte tree (the
// JSON Patch engine, validate). Any bytes: no crash, however deep or wide;
// the nlohmann DOMs and the DOM-less scan agree on what they accept; what
// they accept prints back as JSON they accept again, with the same value;
// the byte tree accepts all of it too, and an unedited tree writes the
// exact bytes it read; a JSON number compares equal to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "src/json_number.h"
#include "src/json_parse.h"
#include "src/json_tree.h"
#include "tests/fuzz/fuzz_check.h"

namespace rm = rocksmigrate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  rm::Json ordered;
  nlohmann::json plain;
  const absl::Status a = rm::ParseJsonExactly(text, &ordered);
  const absl::Status b = rm::ParseJsonExactly(text, &plain);
  const auto scan = rm::ScanJsonRecord(text);
  RM_FUZZ_CHECK(a.ok() == b.ok());
  RM_FUZZ_CHECK(a.ok() == scan.ok());
  if (a.ok()) {
    RM_FUZZ_CHECK(rm::JsonDepth(ordered) <= rm::kMaxJsonDepth);
    const std::string dumped = ordered.dump();
    rm::Json again;
    RM_FUZZ_CHECK(rm::ParseJsonExactly(dumped, &again).ok());
    RM_FUZZ_CHECK(again == ordered);
    RM_FUZZ_CHECK(scan->type == ordered.type_name());
  }
  rm::JsonTree tree;
  const absl::Status t = tree.Parse(text);
  if (a.ok()) RM_FUZZ_CHECK(t.ok());
  if (t.ok()) {
    const std::string out = tree.Serialize();
    const size_t begin = text.find_first_not_of(" \t\n\r");
    const size_t end = text.find_last_not_of(" \t\n\r");
    RM_FUZZ_CHECK(out == text.substr(begin, end - begin + 1));
    // A deep copy of the root writes the same bytes as well.
    RM_FUZZ_CHECK(tree.text(tree.Clone(tree.root())) == out);
  }
  if (rm::ParseJsonNumber(text)) RM_FUZZ_CHECK(rm::SameJsonNumber(text, text));
  return 0;
}
