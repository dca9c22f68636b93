#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace cargovision {

// A single progress line with rate and ETA. On a terminal it redraws in place; in a log (CI, pipes)
// it prints a fresh line at most every `quiet_interval` seconds so logs stay readable.
class ProgressLine {
 public:
  ProgressLine(std::string label, std::int64_t total, std::string unit = "it");
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void advance(std::int64_t steps = 1, const std::string& status = "");
  // Draws the completed line (with the last status unless a new one is given); call once at the end.
  void finish(const std::string& status = "");

  double elapsed_seconds() const;
  static std::string format_duration(double seconds);

 private:
  void draw(const std::string& status, bool final_line);

  std::string label_;
  std::int64_t total_;
  std::string unit_;
  std::string last_status_;
  std::int64_t done_ = 0;
  bool finished_ = false;
  bool interactive_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  double quiet_interval_ = 10.0;
};

}  // namespace cargovision
