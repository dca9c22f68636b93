#pragma once
// Command-line options of train_ocr and demo_ocr, under the original train.py / demo.py names.

#include <CLI/CLI.hpp>

#include <string>

#include "cargovision/ocr/options.h"

namespace cargovision::ocr {

void add_ocr_train_options(CLI::App& app, OcrTrainOptions& options, std::string& config_file);
void add_ocr_demo_options(CLI::App& app, OcrDemoOptions& options, std::string& config_file);

}  // namespace cargovision::ocr
