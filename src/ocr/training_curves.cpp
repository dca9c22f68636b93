#include "cargovision/ocr/training_curves.h"

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "cargovision/core/atomic_file.h"
#include "cargovision/core/error.h"
#include "cargovision/report/line_chart.h"

namespace cargovision::ocr {

std::vector<ValidationPoint> parse_log_train(const std::string& text) {
  static const std::regex losses(R"(^\[(\d+)/\d+\] Train loss: ([-+0-9.eEnaif]+), Valid loss: ([-+0-9.eEnaif]+))");
  static const std::regex scores(R"(^Current_accuracy\s*: ([-+0-9.eE]+), Current_norm_ED\s*: ([-+0-9.eE]+))");
  std::vector<ValidationPoint> points;
  std::istringstream lines(text);
  std::string line;
  bool pending = false;
  ValidationPoint point;
  std::smatch match;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (std::regex_search(line, match, losses)) {
      point = ValidationPoint{};
      point.iteration = std::stoi(match[1].str());
      point.train_loss = std::stod(match[2].str());
      point.valid_loss = std::stod(match[3].str());
      pending = true;
    } else if (pending && std::regex_search(line, match, scores)) {
      point.accuracy = std::stod(match[1].str());
      point.norm_ED = std::stod(match[2].str());
      // A fresh run appended to an old log starts again at a lower iteration.
      if (!points.empty() && point.iteration <= points.back().iteration) points.clear();
      points.push_back(point);
      pending = false;
    }
  }
  return points;
}

namespace {

const cv::Scalar kTrainColour(180, 100, 30), kValidColour(30, 120, 230), kBestColour(40, 160, 40);

template <typename Better>
std::size_t best_index(const std::vector<double>& values, Better better) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < values.size(); ++i) {
    if (better(values[i], values[best])) best = i;
  }
  return best;
}

}  // namespace

cv::Mat render_training_curves(const std::vector<ValidationPoint>& points) {
  require(!points.empty(), "no validation points to plot");
  std::vector<double> iterations, train_loss, valid_loss, accuracy, norm_ed;
  for (const auto& p : points) {
    iterations.push_back(p.iteration);
    train_loss.push_back(p.train_loss);
    valid_loss.push_back(p.valid_loss);
    accuracy.push_back(p.accuracy);
    norm_ed.push_back(p.norm_ED);
  }
  const auto lowest = best_index(valid_loss, [](double a, double b) { return a < b; });
  const auto top_accuracy = best_index(accuracy, [](double a, double b) { return a > b; });
  const auto top_norm_ed = best_index(norm_ed, [](double a, double b) { return a > b; });
  const auto at = [&](std::size_t i) { return fmt::format("iteration {}", points[i].iteration); };

  report::LineChartOptions loss_options{"loss", "iteration", "loss"};
  const report::LineChart loss(loss_options,
                               {{"train", iterations, train_loss, kTrainColour}, {"validation", iterations, valid_loss, kValidColour}},
                               {{iterations[lowest], valid_loss[lowest],
                                 fmt::format("lowest {:.4g} ({})", valid_loss[lowest], at(lowest)), kBestColour}});
  // One validation score on a fixed range, its best point marked.
  const auto score_chart = [&](const std::string& title, const std::string& y_label, double y_max,
                               const std::vector<double>& values, std::size_t best, const std::string& best_text) {
    report::LineChartOptions options{title, "iteration", y_label};
    options.y_min = 0;
    options.y_max = y_max;
    return report::LineChart(options, {{"validation", iterations, values, kValidColour}},
                             {{iterations[best], values[best], best_text + " (" + at(best) + ")", kBestColour}});
  };
  const report::LineChart word = score_chart("validation word accuracy", "accuracy (%)", 100, accuracy, top_accuracy,
                                             fmt::format("best {:.2f} %", accuracy[top_accuracy]));
  const report::LineChart norm = score_chart("validation norm_ED", "1 - normalised edit distance", 1, norm_ed,
                                             top_norm_ed, fmt::format("best {:.2f}", norm_ed[top_norm_ed]));
  return report::side_by_side({loss.render(), word.render(), norm.render()});
}

std::size_t write_training_curves(const std::string& log_train_path, const std::string& png_path) {
  std::ifstream in(log_train_path, std::ios::binary);
  require(static_cast<bool>(in), "{}: cannot read the training log", log_train_path);
  std::ostringstream text;
  text << in.rdbuf();
  const auto points = parse_log_train(text.str());
  if (points.empty()) return 0;
  std::vector<uchar> png;
  require(cv::imencode(".png", render_training_curves(points), png), "{}: could not encode the curves", png_path);
  write_file_atomically(png_path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
  return points.size();
}

}  // namespace cargovision::ocr
