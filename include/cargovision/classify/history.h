#pragma once
// Per-epoch training history, as Keras' History: history.csv and a history.png loss/accuracy plot.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace cargovision {

struct EpochRecord {
  int epoch = 0;  // 1-based
  double loss = 0, accuracy = 0, val_loss = 0, val_accuracy = 0;
  double learning_rate = 0;
  double seconds = 0;
  bool backbone_frozen = false;
  bool checkpoint_saved = false;
};

void to_json(nlohmann::json& j, const EpochRecord& r);
void from_json(const nlohmann::json& j, EpochRecord& r);

std::string format_history_csv(const std::vector<EpochRecord>& history);

// Writes <directory>/history.csv and <directory>/history.png (atomically).
void write_history(const std::vector<EpochRecord>& history, const std::string& directory);

}  // namespace cargovision
