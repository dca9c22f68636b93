#pragma once
// Helpers for tests: temporary folders, small generated images, LibTorch's thread count for one test.

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <string>

namespace cargovision::testing {

// A fresh directory under the system temp folder, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Sets LibTorch's intra-op thread count until the object goes away (also when an assertion ends the test).
class IntraOpThreads {
 public:
  explicit IntraOpThreads(int count) : previous_(torch::get_num_threads()) { torch::set_num_threads(count); }
  ~IntraOpThreads() { torch::set_num_threads(previous_); }
  IntraOpThreads(const IntraOpThreads&) = delete;
  IntraOpThreads& operator=(const IntraOpThreads&) = delete;

 private:
  int previous_;
};

void write_image(const std::filesystem::path& path, const cv::Mat& bgr);
void write_bytes(const std::filesystem::path& path, const std::string& bytes);
std::string read_text(const std::filesystem::path& path);

// Class 0 ("empty"): a dark bed with fine noise. Class 1 ("loaded"): a bright heap in the bed.
cv::Mat synthetic_wagon(int label, int size, unsigned seed);

// Writes `per_class` images for classes 0 and 1 under root/0 and root/1.
void make_two_class_folder(const std::filesystem::path& root, int per_class, int size, unsigned seed);

// What headless Chromium saw on a page made by report::html_document, read off its self-check
// attributes. available is false when no chromium is installed (scripts/setup.sh --reference adds it).
struct BrowserCheck {
  bool available = false;
  bool ready = false;  // the page loaded and its check ran
  int images = -1, broken_images = -1, script_errors = -1;
  std::string detail;  // the <body> tag seen, or why nothing was
};
BrowserCheck check_page_in_browser(const std::filesystem::path& page);

}  // namespace cargovision::testing
