// Fuzz target: the exact JSON parser every record goes through (SPEC
// §8.11). Any bytes: no crash, however deep or wide; the DOM parsers and
// the DOM-less scan agree on what they accept; what they accept prints
// back as JSON they accept again, with the same value; a JSON number
// compares equal to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "src/json_number.h"
#include "src/json_parse.h"
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
  if (rm::ParseJsonNumber(text)) RM_FUZZ_CHECK(rm::SameJsonNumber(text, text));
  return 0;
}
