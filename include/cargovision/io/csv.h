#pragma once

#include <string>
#include <vector>

namespace cargovision {

// Quotes a field only when it holds a comma, quote or line break (RFC 4180), as pandas does.
std::string csv_escape(const std::string& field);
std::string csv_line(const std::vector<std::string>& fields);

// Splits one CSV line written by csv_line (quoted fields with doubled quotes are understood).
std::vector<std::string> csv_split(const std::string& line);

}  // namespace cargovision
