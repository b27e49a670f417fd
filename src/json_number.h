// JSON numbers (RFC 8259 §6) compared by their exact decimal value, never
// through a double: "1.50" equals "15e-1", "-0" equals "0", and
// "123456789012345678901234567890" equals only itself.
#ifndef ROCKSMIGRATE_SRC_JSON_NUMBER_H_
#define ROCKSMIGRATE_SRC_JSON_NUMBER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rocksmigrate {

// The exact value of a JSON number: (-1)^negative * digits * 10^exponent,
// with `digits` free of leading and trailing zeros ("" for zero, whose sign
// is dropped).
struct DecimalValue {
  bool negative = false;
  std::string digits;
  int64_t exponent = 0;
  bool operator==(const DecimalValue& o) const {
    return negative == o.negative && digits == o.digits &&
           exponent == o.exponent;
  }
};

// Parses the text of one JSON number (no surrounding whitespace). nullopt
// if `text` is not a JSON number, or if its exponent does not fit in 18
// digits (no finite double or 64-bit integer has such a value anyway).
std::optional<DecimalValue> ParseJsonNumber(std::string_view text);

// The value of `text` when it is a non-negative JSON integer ("-0" is 0),
// clamped to INT64_MAX (a comparison with a version stays right); nullopt
// for any other text (a fraction, an exponent, a minus sign).
std::optional<int64_t> JsonNonNegativeInteger(std::string_view text);

// True if both texts are JSON numbers with the same exact value.
bool SameJsonNumber(std::string_view a, std::string_view b);

}  // namespace rocksmigrate

#endif  // ROCKSMIGRATE_SRC_JSON_NUMBER_H_
