// Errors as values. Protocol code never lets an exception escape; fallible calls return
// Result<T> (a T or an Error) and the caller decides what to do with the message.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace warren {

struct Error {
  std::string message;  // says what went wrong and, where it can, what to do about it
};

inline Error make_error(std::string message) {
  return Error{std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Result of an operation with no value: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit by design
  static Status success() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace warren

// `WARREN_ASSIGN_OR_RETURN(lhs, expr);` evaluates `expr` (a Result<T>); on an error it returns
// that error from the enclosing function (whose return type is a Result or a Status), else it
// moves the value into `lhs`. For decoders, which are long chains of exactly this.
#define WARREN_RESULT_CONCAT_INNER(a, b) a##b
#define WARREN_RESULT_CONCAT(a, b) WARREN_RESULT_CONCAT_INNER(a, b)
#define WARREN_ASSIGN_OR_RETURN(lhs, expr) \
  WARREN_ASSIGN_OR_RETURN_IMPL(WARREN_RESULT_CONCAT(warren_result_, __LINE__), lhs, expr)
#define WARREN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp) return tmp.error();                      \
  lhs = std::move(*tmp)
