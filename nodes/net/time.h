// Time as integer nanoseconds. Protocol code never reads a clock: it is handed Timestamps by
// its environment (real steady clock, ns-3 simulation time, or a manual test clock).
#pragma once

#include <cstdint>
#include <string>

namespace warren {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration nanoseconds(int64_t ns) { return Duration(ns); }
  static constexpr Duration microseconds(int64_t us) { return Duration(us * 1000); }
  static constexpr Duration milliseconds(int64_t ms) { return Duration(ms * 1000000); }
  static constexpr Duration seconds(int64_t s) { return Duration(s * 1000000000); }
  static constexpr Duration zero() { return Duration(0); }
  static constexpr Duration max() { return Duration(INT64_MAX); }

  constexpr int64_t ns() const { return ns_; }
  constexpr int64_t us() const { return ns_ / 1000; }
  constexpr int64_t ms() const { return ns_ / 1000000; }
  constexpr double seconds_f() const { return static_cast<double>(ns_) / 1e9; }
  constexpr double ms_f() const { return static_cast<double>(ns_) / 1e6; }

  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator*(int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration operator/(int64_t k) const { return Duration(ns_ / k); }
  Duration& operator+=(Duration o) { ns_ += o.ns_; return *this; }
  constexpr bool operator==(Duration o) const { return ns_ == o.ns_; }
  constexpr bool operator!=(Duration o) const { return ns_ != o.ns_; }
  constexpr bool operator<(Duration o) const { return ns_ < o.ns_; }
  constexpr bool operator<=(Duration o) const { return ns_ <= o.ns_; }
  constexpr bool operator>(Duration o) const { return ns_ > o.ns_; }
  constexpr bool operator>=(Duration o) const { return ns_ >= o.ns_; }

 private:
  constexpr explicit Duration(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

// A point on the environment's monotonic clock. Epoch is backend-defined (simulation start,
// or an arbitrary point for the real steady clock); only differences are meaningful.
class Timestamp {
 public:
  constexpr Timestamp() = default;
  static constexpr Timestamp from_ns(int64_t ns) { return Timestamp(ns); }
  constexpr int64_t ns() const { return ns_; }
  constexpr double seconds_f() const { return static_cast<double>(ns_) / 1e9; }

  constexpr Timestamp operator+(Duration d) const { return Timestamp(ns_ + d.ns()); }
  constexpr Timestamp operator-(Duration d) const { return Timestamp(ns_ - d.ns()); }
  constexpr Duration operator-(Timestamp o) const { return Duration::nanoseconds(ns_ - o.ns_); }
  constexpr bool operator==(Timestamp o) const { return ns_ == o.ns_; }
  constexpr bool operator!=(Timestamp o) const { return ns_ != o.ns_; }
  constexpr bool operator<(Timestamp o) const { return ns_ < o.ns_; }
  constexpr bool operator<=(Timestamp o) const { return ns_ <= o.ns_; }
  constexpr bool operator>(Timestamp o) const { return ns_ > o.ns_; }
  constexpr bool operator>=(Timestamp o) const { return ns_ >= o.ns_; }

 private:
  constexpr explicit Timestamp(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

// "1.500s", "250ms", "12us": for logs.
std::string to_string(Duration d);

}  // namespace warren
