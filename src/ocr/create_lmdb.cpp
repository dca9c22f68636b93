#include "cargovision/ocr/create_lmdb.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <utility>

#include "cargovision/core/error.h"
#include "cargovision/core/interrupt.h"
#include "cargovision/core/progress.h"
#include "cargovision/io/lmdb_store.h"
#include "cargovision/ocr/text.h"

namespace cargovision::ocr {
namespace fs = std::filesystem;
namespace {

bool read_whole_file(const fs::path& path, std::string& bytes) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  bytes.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  return true;
}

// The original's checkImageIsValid: decodes as grey and requires a non-empty image.
bool image_is_valid(const std::string& bytes) {
  if (bytes.empty()) return false;
  try {
    const cv::Mat encoded(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    const cv::Mat image = cv::imdecode(encoded, cv::IMREAD_GRAYSCALE);
    return !image.empty() && image.rows > 0 && image.cols > 0;
  } catch (const cv::Exception&) {
    return false;
  }
}

fs::path find_gt_in_folder(const fs::path& folder, const std::string& requested_name) {
  if (!requested_name.empty()) {
    const fs::path named = folder / fs::path(requested_name).filename();
    return fs::is_regular_file(named) ? named : fs::path();
  }
  if (fs::is_regular_file(folder / "gt.txt")) return folder / "gt.txt";
  std::vector<fs::path> texts;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.is_regular_file() && entry.path().extension() == ".txt") texts.push_back(entry.path());
  }
  return texts.size() == 1 ? texts.front() : fs::path();
}

}  // namespace

std::vector<GtEntry> read_gt_file(const std::string& gt_file) {
  std::ifstream file(gt_file, std::ios::binary);
  require(static_cast<bool>(file), "{}: cannot open gt file", gt_file);
  std::vector<GtEntry> entries;
  std::string line;
  std::size_t number = 0;
  while (std::getline(file, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 byte-order mark
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::size_t tab = line.find('\t');
    require(tab != std::string::npos, "{}:{}: no tab between image path and label (expected 'path<TAB>label')",
            gt_file, number);
    require(tab > 0, "{}:{}: empty image path before the tab", gt_file, number);
    decode_utf8(line, fmt::format("{}:{}", gt_file, number));
    entries.push_back({number, line.substr(0, tab), line.substr(tab + 1)});
  }
  return entries;
}

CreateLmdbSummary create_lmdb_dataset(const std::string& input_path, const std::string& gt_file,
                                      const std::string& output_path, bool check_valid, std::size_t commit_every) {
  require(fs::is_directory(input_path), "{}: input folder does not exist", input_path);
  require(commit_every > 0, "commit interval must be positive");
  const auto entries = read_gt_file(gt_file);
  require(!entries.empty(), "{}: gt file has no samples", gt_file);

  const fs::path target(output_path);
  // One scratch folder per run (process and call): two runs on one output each build a whole LMDB, and
  // the later rename wins; neither sees the other's records.
  static std::atomic<int> runs{0};
  const fs::path partial = fmt::format("{}.partial.{}.{}", target.string(), ::getpid(), runs++);
  fs::remove_all(partial);
  if (fs::exists(target / "data.mdb")) {
    spdlog::info("{}: an LMDB is there; it is replaced (atomically) once the new one is complete", output_path);
  }
  CreateLmdbSummary summary;
  summary.output_path = output_path;
  {
    LmdbWriter writer(partial.string());
    std::vector<std::pair<std::string, std::string>> pending;
    ProgressLine progress("create_lmdb " + target.filename().string(), static_cast<std::int64_t>(entries.size()),
                          "img");
    std::string bytes;
    for (const auto& entry : entries) {
      if (interrupt_requested()) throw Error(output_path + ": interrupted; the LMDB was not written");
      const fs::path image = fs::path(input_path) / entry.image_path;
      if (entry.label.empty()) {
        // An empty label would teach the model to read nothing; it is a gap in the gt file.
        spdlog::warn("{}:{}: {} has an empty label; skipped", gt_file, entry.line, entry.image_path);
        ++summary.skipped;
      } else if (!read_whole_file(image, bytes)) {
        spdlog::warn("{}:{}: {} does not exist or cannot be read; skipped", gt_file, entry.line, image.string());
        ++summary.skipped;
      } else if (check_valid && !image_is_valid(bytes)) {
        spdlog::warn("{}:{}: {} is not a valid image; skipped", gt_file, entry.line, image.string());
        ++summary.skipped;
      } else {
        ++summary.written;
        pending.emplace_back(lmdb_image_key(summary.written), std::move(bytes));
        pending.emplace_back(lmdb_label_key(summary.written), entry.label);
        bytes.clear();
        if (summary.written % commit_every == 0) {
          writer.commit(pending);
          pending.clear();
        }
      }
      progress.advance(1, fmt::format("written {} skipped {}", summary.written, summary.skipped));
    }
    pending.emplace_back(kLmdbSampleCountKey, std::to_string(summary.written));
    writer.commit(pending);
    progress.finish(fmt::format("written {} skipped {}", summary.written, summary.skipped));
  }
  if (summary.written == 0) {
    // Nothing to train on: whatever is at the output stays as it was.
    fs::remove_all(partial);
    throw Error(fmt::format("{}: all {} images listed in {} were skipped (missing or not images); the LMDB was not "
                            "written", output_path, entries.size(), gt_file));
  }
  fs::create_directories(target);
  fs::rename(partial / "data.mdb", target / "data.mdb");
  fs::remove(target / "lock.mdb");  // a stale lock of the dataset we replaced
  fs::remove_all(partial);
  spdlog::info("Created dataset {} with {} samples ({} skipped)", output_path, summary.written, summary.skipped);
  return summary;
}

std::vector<CreateLmdbSummary> create_lmdb(const CreateLmdbOptions& options) {
  require(!options.inputPath.empty(), "--inputPath is required");
  require(!options.outputPath.empty(), "--outputPath is required");
  require(fs::is_directory(options.inputPath), "{}: input folder does not exist", options.inputPath);
  if (!options.gtFile.empty() && fs::is_regular_file(options.gtFile)) {
    return {create_lmdb_dataset(options.inputPath, options.gtFile, options.outputPath, options.checkValid,
                                options.commit_every)};
  }
  std::vector<fs::path> folders;
  for (const auto& entry : fs::directory_iterator(options.inputPath)) {
    if (entry.is_directory() && !find_gt_in_folder(entry.path(), options.gtFile).empty()) folders.push_back(entry.path());
  }
  std::sort(folders.begin(), folders.end());
  require(!folders.empty(),
          "{}: no gt file: --gtFile '{}' is not a file, and no sub-folder holds {} (the seed's layout: "
          "sub-folders 01 02 03, each with its own gt file)",
          options.inputPath, options.gtFile, options.gtFile.empty() ? "gt.txt or a single .txt file" : options.gtFile);
  std::vector<CreateLmdbSummary> summaries;
  for (const auto& folder : folders) {
    summaries.push_back(create_lmdb_dataset(folder.string(), find_gt_in_folder(folder, options.gtFile).string(),
                                            (fs::path(options.outputPath) / folder.filename()).string(),
                                            options.checkValid, options.commit_every));
  }
  return summaries;
}

}  // namespace cargovision::ocr
