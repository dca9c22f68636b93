#pragma once
// The one exception type the library throws for bad input; apps print what() as a one-line error.

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace cargovision {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Raised for a single unreadable sample where the caller may skip it and go on.
class ImageReadError : public Error {
 public:
  using Error::Error;
};

// Ctrl-C stopped a run at a safe point before it could write its results; apps exit with 130
// (128 + SIGINT), as a shell expects of an interrupted command.
class Interrupted : public Error {
 public:
  using Error::Error;
};

// Throws Error with the formatted message unless the condition holds: argument checks on user input.
template <typename... Args>
void require(bool condition, fmt::format_string<Args...> format, Args&&... args) {
  if (!condition) throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace cargovision
