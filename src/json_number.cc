#include "src/json_number.h"

#include <cstdint>

namespace rocksmigrate {

std::optional<DecimalValue> ParseJsonNumber(std::string_view text) {
  DecimalValue v;
  size_t i = 0;
  const size_t n = text.size();
  auto digit = [&](size_t at) { return at < n && text[at] >= '0' && text[at] <= '9'; };
  if (i < n && text[i] == '-') {
    v.negative = true;
    ++i;
  }
  if (!digit(i)) return std::nullopt;
  std::string all;  // Integer and fraction digits.
  if (text[i] == '0') {
    ++i;
    if (digit(i)) return std::nullopt;  // No leading zeros in JSON.
    all.push_back('0');
  } else {
    while (digit(i)) all.push_back(text[i++]);
  }
  int64_t fraction_digits = 0;
  if (i < n && text[i] == '.') {
    ++i;
    if (!digit(i)) return std::nullopt;
    while (digit(i)) {
      all.push_back(text[i++]);
      ++fraction_digits;
    }
  }
  int64_t exponent = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
    if (!digit(i)) return std::nullopt;
    while (i < n && text[i] == '0') ++i;
    size_t exp_digits = 0;
    while (digit(i)) {
      if (++exp_digits > 18) return std::nullopt;
      exponent = exponent * 10 + (text[i++] - '0');
    }
    if (exp_negative) exponent = -exponent;
  }
  if (i != n) return std::nullopt;
  // Strip leading zeros, then trailing zeros into the exponent.
  size_t first = all.find_first_not_of('0');
  if (first == std::string::npos) return DecimalValue{};  // Zero.
  size_t last = all.find_last_not_of('0');
  v.digits = all.substr(first, last - first + 1);
  v.exponent = exponent - fraction_digits +
               static_cast<int64_t>(all.size() - 1 - last);
  return v;
}

std::optional<int64_t> JsonNonNegativeInteger(std::string_view text) {
  if (text == "-0") return 0;
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  int64_t v = 0;
  constexpr int64_t kMax = INT64_MAX;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v > (kMax - 9) / 10 ? kMax : v * 10 + (c - '0');
  }
  return v;
}

bool SameJsonNumber(std::string_view a, std::string_view b) {
  std::optional<DecimalValue> x = ParseJsonNumber(a);
  std::optional<DecimalValue> y = ParseJsonNumber(b);
  return x && y && *x == *y;
}

}  // namespace rocksmigrate
