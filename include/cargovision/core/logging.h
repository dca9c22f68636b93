#pragma once

#include <string>

namespace cargovision {

// Console logger on stderr; when log_file is non-empty the same lines are also appended there.
void setup_logging(const std::string& level = "info", const std::string& log_file = "");

}  // namespace cargovision
