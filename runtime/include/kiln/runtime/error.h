// Errors in Kiln are values with a message a user can act on.
//
// Inside a component, code throws kiln::Error; at a component boundary (the ONNX
// importer, the package loader, the command line) it is caught and returned as an
// Expected<T> or printed as one line. Nothing that a user's input can trigger is an assert.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace kiln {

class Error : public std::runtime_error {
 public:
  explicit Error(std::string message) : std::runtime_error(std::move(message)) {}
};

// Either a value or the Error that prevented it.
template <typename T>
class Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}      // NOLINT: implicit on purpose
  Expected(Error error) : v_(std::move(error)) {}  // NOLINT

  explicit operator bool() const { return std::holds_alternative<T>(v_); }
  bool ok() const { return std::holds_alternative<T>(v_); }
  T& value() {
    if (!ok()) throw std::get<Error>(v_);
    return std::get<T>(v_);
  }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  const Error& error() const { return std::get<Error>(v_); }
  std::string message() const { return ok() ? std::string() : error().what(); }

 private:
  std::variant<T, Error> v_;
};

// Runs fn, converting a thrown kiln::Error (or std::exception) into an Expected.
template <typename Fn>
auto catchErrors(Fn&& fn) -> Expected<decltype(fn())> {
  try {
    return fn();
  } catch (const Error& e) {
    return e;
  } catch (const std::bad_alloc&) {
    return Error("out of memory");
  } catch (const std::exception& e) {
    return Error(std::string("internal error: ") + e.what());
  }
}

}  // namespace kiln
