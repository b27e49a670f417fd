// Fuzz target: the migration-file loader. Any bytes give a migration or an
// InvalidArgument naming the file, never a crash; a migration it accepts
// applies to a record without crashing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "src/migration_file.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // The file name the loader checks the fields against: the shipped
  // example's, so that mutations of it can be accepted.
  auto m = rocksmigrate::ParseMigrationFile(
      bytes, "0002_task_add_dependencies.json", "fuzz.json");
  if (!m.ok()) {
    RM_FUZZ_CHECK(absl::IsInvalidArgument(m.status()));
    RM_FUZZ_CHECK(std::string(m.status().message()).rfind("fuzz.json: ", 0) == 0);
    return 0;
  }
  RM_FUZZ_CHECK((*m)->to() == (*m)->from() + 1);
  auto r = (*m)->Migrate("task:1", R"({"id":1,"title":"t","tags":["a"]})");
  (void)r;
  return 0;
}
