#pragma once
// Command-line options of `preprocess` and `test`, bound to the option structs (current values become
// the shown defaults, so a --config file's values appear in --help).

#include <CLI/CLI.hpp>

#include "cargovision/classify/options.h"

namespace cargovision {

#include <string>

// config_file receives --config (already applied by the caller before parsing; bound so --help lists it).
void add_train_options(CLI::App& app, TrainOptions& options, std::string& config_file);
void add_test_options(CLI::App& app, TestOptions& options, std::string& config_file);

}  // namespace cargovision
