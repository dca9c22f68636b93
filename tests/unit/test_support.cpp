#include "test_support.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>

namespace cargovision::testing {

TempDir::TempDir() {
  static std::mt19937_64 random{std::random_device{}()};
  path_ = std::filesystem::temp_directory_path() / ("cargovision-test-" + std::to_string(random()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void write_image(const std::filesystem::path& path, const cv::Mat& bgr) {
  std::filesystem::create_directories(path.parent_path());
  if (!cv::imwrite(path.string(), bgr)) throw std::runtime_error("cannot write " + path.string());
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream buffer;
  buffer << file.rdbuf();
  return buffer.str();
}

cv::Mat synthetic_wagon(int label, int size, unsigned seed) {
  cv::RNG rng(seed * 2654435761u + static_cast<unsigned>(label));
  cv::Mat image(size, size, CV_8UC3, cv::Scalar(90 + rng.uniform(-20, 20), 100, 110));
  const int top = size / 3 + rng.uniform(-size / 10, size / 10);
  const int left = size / 8 + rng.uniform(0, size / 10);
  const int right = size - size / 8 - rng.uniform(0, size / 10);
  cv::rectangle(image, {left, top}, {right, size - size / 6}, cv::Scalar(40, 45, 60), cv::FILLED);
  if (label == 1) {
    std::vector<cv::Point> heap = {{left + 2, top + 2}, {(left + right) / 2 + rng.uniform(-5, 5), top - size / 5},
                                   {right - 2, top + 2}, {right - 2, size - size / 6}, {left + 2, size - size / 6}};
    cv::fillPoly(image, std::vector<std::vector<cv::Point>>{heap}, cv::Scalar(210, 215, 220));
  }
  cv::Mat noise(image.size(), image.type());
  cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(8));
  image += noise;
  return image;
}

void make_two_class_folder(const std::filesystem::path& root, int per_class, int size, unsigned seed) {
  for (int label = 0; label < 2; ++label) {
    for (int i = 0; i < per_class; ++i) {
      const std::string name = (label == 0 ? "empty_V" : "loaded_V") + std::to_string(i + 1) + ".png";
      write_image(root / std::to_string(label) / name, synthetic_wagon(label, size, seed + static_cast<unsigned>(i)));
    }
  }
}

BrowserCheck check_page_in_browser(const std::filesystem::path& page) {
  BrowserCheck check;
  const char* browser = nullptr;
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (std::filesystem::exists(candidate)) browser = candidate;
  }
  if (browser == nullptr) {
    check.detail = "no chromium";
    return check;
  }
  check.available = true;
  const std::filesystem::path dom = page.string() + ".dom.html";
  const std::filesystem::path profile = page.string() + ".chromium-profile";  // own profile: tests run in parallel
  // --no-sandbox: test machines run as root; the virtual time budget lets the load event fire.
  const std::string command = std::string(browser) +
                              " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --virtual-time-budget=10000"
                              " --user-data-dir='" + profile.string() + "' --dump-dom 'file://" +
                              std::filesystem::absolute(page).string() + "' > '" + dom.string() + "' 2>/dev/null";
  const int status = std::system(command.c_str());
  const std::string text = read_text(dom);
  std::filesystem::remove(dom);
  std::filesystem::remove_all(profile);
  std::smatch body;
  if (!std::regex_search(text, body, std::regex("<body[^>]*>"))) {
    check.detail = "chromium exited with status " + std::to_string(status) + " and no <body>";
    return check;
  }
  check.detail = body.str();
  const auto attribute = [&](const std::string& name) {
    std::smatch match;
    const std::string tag = body.str();
    return std::regex_search(tag, match, std::regex(name + "=\"(\\d+)\"")) ? std::stoi(match[1].str()) : -1;
  };
  check.ready = attribute("data-report-ready") == 1;
  check.images = attribute("data-images");
  check.broken_images = attribute("data-images-broken");
  check.script_errors = attribute("data-script-errors");
  return check;
}

}  // namespace cargovision::testing
