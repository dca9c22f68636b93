// cargovision_bench ocr-data: the LMDB loader's samples/s against the original's (scripts/bench_ocr_data.py).
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "bench_tasks.h"
#include "cargovision/ocr/batch_loader.h"
#include "cargovision/ocr/create_lmdb.h"

namespace cargovision::bench {
namespace {

// An LMDB of varied text crops (widths 60-220, heights 20-48), made once per work folder.
std::string ocr_bench_lmdb(const std::filesystem::path& work, int samples) {
  namespace fs = std::filesystem;
  const fs::path lmdb = work / "ocr_lmdb";
  if (fs::exists(lmdb / "data.mdb")) return lmdb.string();
  const fs::path crops = work / "ocr_crops";
  fs::create_directories(crops);
  cv::RNG rng(7);
  std::ofstream gt(crops / "gt.txt");
  for (int i = 0; i < samples; ++i) {
    cv::Mat crop(rng.uniform(20, 49), rng.uniform(60, 221), CV_8UC3);
    rng.fill(crop, cv::RNG::UNIFORM, 60, 200);
    const std::string label = std::to_string(rng.uniform(1000, 9999)) + "S" + std::to_string(rng.uniform(10, 99));
    cv::putText(crop, label, {2, crop.rows - 4}, cv::FONT_HERSHEY_SIMPLEX, crop.rows / 40.0, cv::Scalar(255, 255, 255), 2);
    const std::string name = "c" + std::to_string(i) + ".jpg";
    cv::imwrite((crops / name).string(), crop);
    gt << name << '\t' << label << '\n';
  }
  gt.close();
  ocr::create_lmdb_dataset(crops.string(), (crops / "gt.txt").string(), lmdb.string(), true);
  return lmdb.string();
}

}  // namespace

nlohmann::json ocr_data_bench(const std::string& work, int batches) {
  const std::string lmdb = ocr_bench_lmdb(work, 2048);
  nlohmann::json result{{"lmdb", lmdb}, {"batch_size", 64}};
  for (int workers : {1, 2}) {
    ocr::OcrDataOptions options;
    options.train_data = lmdb;
    options.select_data = "/";
    options.batch_ratio = "1";
    options.batch_size = 64;
    options.workers = workers;
    ocr::BatchBalancedLoader loader(options, 1111);
    for (int i = 0; i < 2; ++i) loader.next();  // warm-up: page cache, threads
    const auto start = Clock::now();
    for (int i = 0; i < batches; ++i) loader.next();
    result["samples_per_s_" + std::to_string(workers) + "_threads"] = batches * 64 / seconds_since(start);
  }
  return result;
}

}  // namespace cargovision::bench
