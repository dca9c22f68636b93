#pragma once
// The one exception type the library throws for bad input; apps print what() as a one-line error.

#include <stdexcept>
#include <string>

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

}  // namespace cargovision
