#pragma once
// demo_ocr: reads every crop of a folder (sorted naturally, as the original's natsorted) or an LMDB,
// predicts in batches and writes demo_result.csv, the original's log_demo_result.txt and report.html.

#include <string>

#include "cargovision/ocr/options.h"

namespace cargovision::ocr {

struct OcrDemoSummary {
  std::size_t images = 0;
  std::size_t unreadable = 0;
  std::size_t repaired = 0;     // readings changed by --code_check
  std::size_t reread = 0;       // readings changed by reading an uncertain crop again (--reread_below)
  std::size_t with_ground_truth = 0;
  std::size_t correct = 0;
  double norm_ED = 0.0;         // mean over the crops with ground truth, as train_ocr's validation reports it
  double ms_per_image = 0.0;    // reading time (model, code check, rereads), first (warm-up) batch excluded when there are several
  std::string csv_path;
  std::string html_path;        // empty with --no_report
};

// Options must have been finalize()d.
OcrDemoSummary demo_ocr(const OcrDemoOptions& options);

// "img2.png" < "img10.png": digit runs compare by value.
bool natural_less(const std::string& a, const std::string& b);

}  // namespace cargovision::ocr
