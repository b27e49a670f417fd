// Exact JSON parsing for records and bookkeeping (SPEC §8.11): a text is
// accepted only if nlohmann::json can hold it without changing it.
//
// Refused, with a message that says why (never a crash, never a silent
// change):
//  - text that is not one JSON value per RFC 8259 (UTF-8 included), or that
//    holds a NUL byte;
//  - nesting deeper than kMaxJsonDepth arrays and objects;
//  - an object with two members of the same name;
//  - a number the DOM would change: an integer beyond 64 bits, or a decimal
//    whose value a double does not hold exactly as written ("0.1" is held:
//    it prints back as 0.1; "1e400" and "0.10000000000000000001" are not).
//
// Parsing never recurses (nlohmann's SAX parser keeps its own stack), so no
// input can exhaust a thread's stack. Wide objects cost O(members).
#ifndef ROCKSMIGRATE_SRC_JSON_PARSE_H_
#define ROCKSMIGRATE_SRC_JSON_PARSE_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "rocksmigrate/json_migration.h"

namespace rocksmigrate {

// The deepest nesting of arrays and objects accepted: `{}` is depth 1.
inline constexpr int kMaxJsonDepth = 256;

// Parses `text` into `out` (replaced). InvalidArgument as above.
absl::Status ParseJsonExactly(std::string_view text, Json* out);
absl::Status ParseJsonExactly(std::string_view text, nlohmann::json* out);

// What a scan of one record found, without building a DOM (memory does not
// grow with the record, only with its depth and its widest object's names).
struct RecordScan {
  // "object", "array", "string", "number", "boolean" or "null".
  std::string type;
  // The top-level member `schema_version`, when the record is an object
  // that has one: its text as stored ("18446744073709551615", "\"2\"").
  std::optional<std::string> schema_version_text;
  // Set when schema_version is a non-negative integer (values above
  // INT64_MAX are clamped to INT64_MAX: a comparison stays right).
  std::optional<int64_t> schema_version;
};

// Checks `text` by the rules above and reads its schema_version.
absl::StatusOr<RecordScan> ScanJsonRecord(std::string_view text);

// The nesting depth of `value`, counting up to `limit` + 1 at most (so the
// walk stops early on a deep value). Iterative.
int JsonDepth(const Json& value, int limit = kMaxJsonDepth);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_JSON_PARSE_H_
