#include "cargovision/core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace cargovision {

ProgressLine::ProgressLine(std::string label, std::int64_t total, std::string unit)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      interactive_(isatty(fileno(stderr)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressLine::~ProgressLine() {
  if (!finished_ && interactive_ && done_ > 0) std::fputc('\n', stderr);  // leave an interrupted bar intact
}

double ProgressLine::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressLine::format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 360000) return "--:--";
  const auto total = static_cast<long>(seconds + 0.5);
  if (total >= 3600) return fmt::format("{}:{:02}:{:02}", total / 3600, (total / 60) % 60, total % 60);
  return fmt::format("{:02}:{:02}", total / 60, total % 60);
}

void ProgressLine::advance(std::int64_t steps, const std::string& status) {
  done_ += steps;
  last_status_ = status;
  if (done_ >= total_) return;  // the completed line is drawn once, by finish()
  const auto now = std::chrono::steady_clock::now();
  const double since_draw = std::chrono::duration<double>(now - last_draw_).count();
  if (interactive_ ? since_draw >= 0.2 : since_draw >= quiet_interval_) {
    last_draw_ = now;
    draw(status, false);
  }
}

void ProgressLine::finish(const std::string& status) {
  if (finished_) return;
  finished_ = true;
  draw(status.empty() ? last_status_ : status, true);
}

void ProgressLine::draw(const std::string& status, bool final_line) {
  const double elapsed = elapsed_seconds();
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : -1.0;
  const double percent = total_ > 0 ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 100.0;
  std::string line = fmt::format("{} {}/{} ({:.0f}%) {:.2f} {}/s elapsed {} ETA {}", label_, done_, total_,
                                 percent, rate, unit_, format_duration(elapsed),
                                 final_line ? "00:00" : format_duration(eta));
  if (!status.empty()) line += "  " + status;
  if (interactive_) {
    std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace cargovision
