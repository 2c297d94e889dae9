// Status and Result: how every fallible telltale call reports failure, without exceptions on the hot path.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace telltale {

// The same codes as tt_status in telltale.h (the C ABI maps them one to one).
enum class StatusCode : int32_t {
  kOk = 0,
  kInvalidArgument = -1,  // a parameter or input is out of range or malformed
  kKey = -2,              // a key file or key material is missing, unreadable, corrupt or unsafe
  kUnsupported = -3,      // a valid request this build or scheme does not support
  kNoMemory = -4,
  kState = -5,       // the call is not valid in the object's current state
  kIo = -6,          // a file could not be read or written
  kIncomplete = -7,  // the given candidates cannot decide the result exactly; use the full pass
  kInternal = -8,
};

// A code and a one-line message. Messages never contain secret material.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return {}; }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status key_error(std::string m) { return {StatusCode::kKey, std::move(m)}; }
inline Status io_error(std::string m) { return {StatusCode::kIo, std::move(m)}; }
inline Status unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }

// Either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status kOkStatus;
    return is_ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace telltale

#define TT_RETURN_IF_ERROR(expr)                \
  do {                                          \
    ::telltale::Status tt_status_ = (expr);     \
    if (!tt_status_.is_ok()) return tt_status_; \
  } while (0)
