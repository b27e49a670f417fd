// The sample data of rocksmigrate-gen and of the benchmarks (one generator
// for both): deterministic, realistic ~200-byte JSON records under two
// prefixes, and the expected bytes after the Task v1 -> v2 migration,
// computed without the engine.
//
// Record i of a dataset of N records (0 <= i < N) is a note when
// i % 10 == 9 and a task otherwise, so 90% of the records are tasks. Its key
// is "task:" or "note:" followed by i as 10 zero-padded digits, and its value
// depends only on (seed, i): any record can be recomputed at any time, so a
// check never needs to keep the dataset in memory.
//
// Values are compact JSON (no whitespace, integers only, a few `\"` escapes
// and raw UTF-8 strings), which is exactly how nlohmann::ordered_json dumps
// them. That lets ExpectedTaskV2() compute the migrated bytes by editing the
// text instead of going through a JSON library.
#ifndef ROCKSMIGRATE_TOOLS_SAMPLE_SAMPLE_DATA_H_
#define ROCKSMIGRATE_TOOLS_SAMPLE_SAMPLE_DATA_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace rocksmigrate_sample {

inline constexpr char kTaskPrefix[] = "task:";
inline constexpr char kNotePrefix[] = "note:";

// True if record `index` is a task (else a note).
inline bool IsTask(uint64_t index) { return index % 10 != 9; }

// The number of tasks among records [0, n).
inline uint64_t TaskCount(uint64_t n) { return n - n / 10; }

// The record index of the `ordinal`-th task (0-based).
inline uint64_t TaskIndex(uint64_t ordinal) {
  return ordinal / 9 * 10 + ordinal % 9;
}

// "task:0000001234" or "note:0000001239".
std::string RecordKey(uint64_t index);

// The version-1 value of record `index`.
std::string RecordValue(uint64_t seed, uint64_t index);

// A version-1 task value made from (seed, index) with `id` as its "id"
// member: RecordValue() gives a task RecordKey(index), rocksmigrate-gen the
// key it writes.
std::string TaskValue(uint64_t seed, uint64_t index, std::string_view id);

// From now on, task values carry a "notes" member of words making each
// value 2 to 4 KiB long (for the big-records case); false: ~230 bytes.
// Call before generating or checking any record. Not thread-safe.
void SetBigRecords(bool big);

// The bytes the Task v1 -> v2 migration must produce for a task value made
// by RecordValue(): `"schema_version":1` becomes `"schema_version":2` and
// `,"depends_on":[],"related_tasks":[]` is appended as the last members.
// Returns the empty string if `v1` does not have the generator's shape.
std::string ExpectedTaskV2(std::string_view v1);

// The same transform the way a naive application would write it: parse with
// nlohmann::ordered_json, add both lists, set the version, dump. Returns the
// empty string if `v1` is not a JSON object.
std::string NaiveTransform(std::string_view v1);

// The Task v1 -> v2 migration as a declarative file (SPEC §3): its contents
// and the file name it must have.
inline constexpr char kDeclarativeFileName[] = "0002_task_add_dependencies.json";
extern const char kDeclarativeFile[];

// A 64-bit mixer (SplitMix64's finalizer); a cheap seeded hash of an index.
inline uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace rocksmigrate_sample

#endif  // ROCKSMIGRATE_TOOLS_SAMPLE_SAMPLE_DATA_H_
