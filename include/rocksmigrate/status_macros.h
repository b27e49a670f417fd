// Status propagation macros. Debian's Abseil 20220623 has no
// ABSL_RETURN_IF_ERROR / ASSIGN_OR_RETURN, so the project defines its own.
#ifndef ROCKSMIGRATE_STATUS_MACROS_H_
#define ROCKSMIGRATE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status) and returns it from the enclosing
// function if it is not OK.
#define RM_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::absl::Status rm_status_ = (expr);           \
    if (!rm_status_.ok()) return rm_status_;      \
  } while (0)

#define RM_STATUS_MACROS_CONCAT_INNER_(x, y) x##y
#define RM_STATUS_MACROS_CONCAT_(x, y) RM_STATUS_MACROS_CONCAT_INNER_(x, y)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, else moves the value into `lhs`, which may be a
// declaration: RM_ASSIGN_OR_RETURN(auto x, MakeX());
#define RM_ASSIGN_OR_RETURN(lhs, rexpr)                                      \
  RM_ASSIGN_OR_RETURN_IMPL_(                                                 \
      RM_STATUS_MACROS_CONCAT_(rm_statusor_, __LINE__), lhs, rexpr)

#define RM_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                              \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // ROCKSMIGRATE_STATUS_MACROS_H_
