#pragma once
// curves.png of a recognizer run, read from its log_train.txt (ours or the original's: the same
// format), so a resumed run's picture covers the whole run and an original run can be drawn too.

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace cargovision::ocr {

struct ValidationPoint {
  int iteration = 0;
  double train_loss = 0, valid_loss = 0;
  double accuracy = 0;  // word accuracy, percent
  double norm_ED = 0;
};

// The "[i/N] Train loss: ..., Valid loss: ..." line and the "Current_accuracy : ..., Current_norm_ED : ..."
// line after it form one point. The original appends to the log across runs: when the iteration count
// goes back, an earlier run ends there and only the last run's points are kept.
std::vector<ValidationPoint> parse_log_train(const std::string& text);

// Three panels: train and validation loss, word accuracy (%), norm_ED; the best point of each marked.
cv::Mat render_training_curves(const std::vector<ValidationPoint>& points);

// Reads the log and writes the PNG atomically; a log without points writes nothing. Returns the number of points.
std::size_t write_training_curves(const std::string& log_train_path, const std::string& png_path);

}  // namespace cargovision::ocr
