#pragma once
// The tasks of cargovision_bench (driven by scripts/bench.sh); each returns its timings as JSON.
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace cargovision::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Backbone inference (batch 1 and 32), training samples/s (batch 8), and `test` on a folder vs the model alone.
nlohmann::json classifier_bench(const std::string& arch, int64_t size, int iterations, int threads, int folder_images,
                                const std::string& work);

// Samples/s of the batch-balanced LMDB loader, batch 64, 32x100 grey, with 1 and 2 decoding threads.
nlohmann::json ocr_data_bench(const std::string& work, int batches);

// Recognizer inference ms/img (batch 1 and 64) and training samples/s (batch 64) for each named model
// ("TPS-ResNet-BiLSTM-Attn", ...), full size, 94-character case-sensitive set, Adadelta.
nlohmann::json ocr_model_bench(const std::vector<std::string>& models, int iterations);

}  // namespace cargovision::bench
