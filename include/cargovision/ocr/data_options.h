#pragma once
// The data options of the original train.py, under its names (users pass --imgH, --PAD, ...).

#include <string>
#include <vector>

#include "cargovision/ocr/text.h"

namespace cargovision::ocr {

struct OcrDataOptions {
  std::string train_data;
  std::string valid_data;
  std::string select_data = "MJ-ST";     // '-'-separated substrings of LMDB paths; "/" selects all
  std::string batch_ratio = "0.5-0.5";   // '-'-separated share of each selection in a batch
  double total_data_usage_ratio = 1.0;   // first fraction of each selection that is used
  int batch_size = 192;
  int batch_max_length = 25;
  int imgH = 32;
  int imgW = 100;
  bool rgb = false;
  std::string character = kCaseInsensitiveCharacters;
  bool sensitive = false;                // labels keep their case (and, in train_ocr, the 94-character set)
  bool PAD = false;                      // keep the aspect ratio and pad right instead of stretching
  bool data_filtering_off = false;
  int workers = 2;                       // decoding threads
  int synth_curriculum = 0;              // iterations over which generated training crops go from clean to fully degraded
};

// "01-02-03" -> {"01", "02", "03"}.
std::vector<std::string> split_dashes(const std::string& text);

// The per-selection batch shares, checked against select_data (same count, each > 0); a sum far
// from 1 is only warned about, as the original accepts it.
std::vector<double> parse_batch_ratio(const OcrDataOptions& options);

// Python's round() (half to even) as the original uses for max(round(batch_size * ratio), 1).
int per_dataset_batch_size(int batch_size, double ratio);

}  // namespace cargovision::ocr
