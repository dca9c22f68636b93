#include "cargovision/synth/font_catalog.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <opencv2/freetype.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <system_error>

namespace cargovision {
namespace fs = std::filesystem;

bool is_code_font_name(const std::string& file_name) {
  std::string name = file_name;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  const bool font_file = (name.size() > 4 && (name.compare(name.size() - 4, 4, ".ttf") == 0 ||
                                              name.compare(name.size() - 4, 4, ".otf") == 0));
  if (!font_file) return false;
  // Slanted, hairline and variable faces, serif book faces, symbols and scripts are not how codes are painted.
  static const char* const rejected[] = {
      "italic", "oblique", "ita.", "thin", "hairline", "light", "symbol", "d050000l", "math", "z003", "tamil",
      " mac", "[wght]", "serif", "roman", "tinos", "c059", "p052", "bookman", "caladea", "smallcaps", "retina"};
  return std::none_of(std::begin(rejected), std::end(rejected),
                      [&](const char* word) { return name.find(word) != std::string::npos; });
}

namespace {

bool draws_every_code_character(const std::string& path) {
  // Some faces map letters or digits to empty or shared glyphs (symbol sets, caps-only dingbats): a
  // crop drawn with one would not show its label. Every character must leave ink, and differ from 'A'.
  try {
    auto renderer = cv::freetype::createFreeType2();
    renderer->loadFontData(path, 0);
    const std::string characters = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    cv::Mat reference;
    for (char c : characters) {
      cv::Mat canvas = cv::Mat::zeros(40, 40, CV_8UC3);
      renderer->putText(canvas, std::string(1, c), {4, 32}, 28, cv::Scalar::all(255), -1, cv::LINE_8, true);
      cv::Mat grey;
      cv::extractChannel(canvas, grey, 0);
      if (cv::countNonZero(grey) < 20) return false;
      if (c == 'A') reference = grey;
      else if (!reference.empty() && cv::norm(grey, reference, cv::NORM_L1) == 0) return false;
    }
    return true;
  } catch (const cv::Exception&) {
    return false;
  }
}

std::vector<std::string> scan_system_fonts() {
  std::set<std::string> seen_names;
  std::vector<std::string> found;
  for (const char* root : {"/usr/share/fonts/truetype", "/usr/share/fonts/opentype"}) {
    std::error_code error;
    if (!fs::is_directory(root, error)) continue;
    // A font folder we cannot read, or a dangling link in it, only means fewer fonts.
    for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, error), end;
         !error && it != end; it.increment(error)) {
      if (!it->is_regular_file(error)) continue;
      const std::string name = it->path().filename().string();
      if (!is_code_font_name(name) || !seen_names.insert(name).second) continue;
      if (draws_every_code_character(it->path().string())) found.push_back(it->path().string());
      else spdlog::debug("{}: lacks some code characters, not used for code crops", it->path().string());
    }
  }
  std::sort(found.begin(), found.end(),
            [](const std::string& a, const std::string& b) { return fs::path(a).filename() < fs::path(b).filename(); });
  return found;
}

}  // namespace

const std::vector<std::string>& find_system_fonts() {
  static const std::vector<std::string> fonts = scan_system_fonts();
  return fonts;
}

}  // namespace cargovision
