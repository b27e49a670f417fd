// Fuzz target: the JSON Patch applier. The input is a patch (a JSON array
// of operations) and a record, separated by a 0xFF byte (never part of
// valid JSON). Whatever they hold: no crash, and a record the patch
// rewrites comes out as JSON the exact parser accepts, an object at the
// step's version.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "rocksmigrate/json_migration.h"
#include "src/json_parse.h"
#include "src/migration_file.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t cut = in.find('\xff');
  const std::string_view patch = in.substr(0, cut);
  const std::string_view record =
      cut == std::string_view::npos ? std::string_view("{}") : in.substr(cut + 1);
  const std::string file = std::string(
      R"({"from":1,"to":2,"name":"fuzz","prefix":"t:","patch":)") +
      std::string(patch) + "}";
  auto m = rocksmigrate::ParseMigrationFile(file, "0002_fuzz.json", "fuzz");
  if (!m.ok()) return 0;
  auto r = (*m)->Migrate("t:1", record);
  if (!r.ok() || r->kind() != rocksmigrate::ItemResult::Kind::kWrite) return 0;
  rocksmigrate::Json out;
  RM_FUZZ_CHECK(rocksmigrate::ParseJsonExactly(r->value(), &out).ok());
  RM_FUZZ_CHECK(out.is_object());
  RM_FUZZ_CHECK(out.contains("schema_version") && out["schema_version"] == 2);
  return 0;
}
