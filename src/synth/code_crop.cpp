#include "cargovision/synth/code_crop.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/freetype.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cargovision/core/atomic_file.h"
#include "cargovision/core/error.h"
#include "cargovision/core/progress.h"
#include "cargovision/data/numpy_random.h"
#include "cargovision/synth/scene_paint.h"

namespace cargovision {
namespace fs = std::filesystem;
namespace {

char random_digit(NumpyRandom& random) { return static_cast<char>('0' + random_index(random, 10)); }
char random_letter(NumpyRandom& random) { return static_cast<char>('A' + random_index(random, 26)); }

std::string digits(int count, NumpyRandom& random) {
  std::string text;
  for (int i = 0; i < count; ++i) text += random_digit(random);
  return text;
}

std::string letters(int count, NumpyRandom& random) {
  std::string text;
  for (int i = 0; i < count; ++i) text += random_letter(random);
  return text;
}

// One freetype renderer per font file, loaded once (loading parses the file).
cv::Ptr<cv::freetype::FreeType2> font_renderer(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, cv::Ptr<cv::freetype::FreeType2>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto& renderer = cache[path];
  if (!renderer) {
    renderer = cv::freetype::createFreeType2();
    renderer->loadFontData(path, 0);
  }
  return renderer;
}

}  // namespace

int iso6346_check_digit(const std::string& first_ten) {
  require(first_ten.size() == 10, "ISO 6346 needs 10 characters before the check digit, got '{}'", first_ten);
  int sum = 0;
  for (int i = 0; i < 10; ++i) {
    const char c = first_ten[static_cast<std::size_t>(i)];
    int value = 0;
    if (c >= '0' && c <= '9') {
      value = c - '0';
    } else {
      require(c >= 'A' && c <= 'Z', "ISO 6346: invalid character '{}' in '{}'", c, first_ten);
      value = 10 + (c - 'A');
      value += (value - 1) / 10;  // letters skip the multiples of 11: A=10, B=12, ... K=21, L=23
    }
    sum += value << i;
  }
  return (sum % 11) % 10;
}

std::string random_code(CodeFormat format, NumpyRandom& random) {
  switch (format) {
    case CodeFormat::kFourDigits: return digits(4, random);
    case CodeFormat::kWagonLong:
      return digits(3, random) + random_letter(random) + digits(2, random) + random_letter(random) + digits(2, random);
    case CodeFormat::kWagonShort: return digits(4, random) + random_letter(random) + digits(2, random) + random_letter(random);
    case CodeFormat::kLetterDigitsLetters: return random_letter(random) + digits(4, random) + letters(3, random);
    case CodeFormat::kTwoLettersSixDigits: return letters(2, random) + digits(6, random);
    case CodeFormat::kIso6346: {
      static const char categories[] = {'U', 'J', 'Z'};
      const std::string first = letters(3, random) + categories[random_index(random, 3)] + digits(6, random);
      return first + std::to_string(iso6346_check_digit(first));
    }
  }
  throw Error("unknown code format");
}

std::vector<std::string> find_system_fonts() {
  static const char* candidates[] = {
      "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
      "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
      "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
      "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
      "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
      "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
      "/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf",
      "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf",
  };
  std::vector<std::string> found;
  for (const char* path : candidates) {
    if (fs::exists(path)) found.emplace_back(path);
  }
  return found;
}

cv::Mat render_code_crop(const std::string& text, const CodeCropOptions& options, NumpyRandom& random) {
  require(options.height >= 16, "crop height must be at least 16, got {}", options.height);
  require(!text.empty(), "cannot render an empty code");
  const std::vector<std::string> fonts = options.fonts.empty() ? find_system_fonts() : options.fonts;
  const int text_height = static_cast<int>(options.height * random.uniform(0.55, 0.8));
  // Uneven spacing: each character is drawn on its own with a random gap.
  const double spacing = random.uniform(-0.05, 0.35) * text_height;
  const bool low_contrast = random.random_sample() < options.low_contrast_probability;
  const cv::Scalar paint = jitter_colour({60, 70, 110}, 50, random);
  const cv::Scalar ink = low_contrast ? scale_colour(paint, random.uniform(1.5, 2.0))
                                      : (random.random_sample() < 0.7 ? jitter_colour({235, 235, 235}, 20, random)
                                                                      : jitter_colour({25, 25, 25}, 15, random));
  const std::string font = fonts.empty() ? "" : fonts[random_index(random, fonts.size())];
  // Stencilled codes: the bridges of a stencil plate leave paint-coloured gaps through every glyph.
  const bool stencil = random.random_sample() < options.stencil_probability;
  std::vector<int> widths;
  for (char c : text) {
    int baseline = 0;
    const std::string glyph(1, c);
    const cv::Size size = font.empty() ? cv::getTextSize(glyph, cv::FONT_HERSHEY_DUPLEX, text_height / 22.0, 2, &baseline)
                                       : font_renderer(font)->getTextSize(glyph, text_height, -1, &baseline);
    widths.push_back(size.width);
  }
  int text_width = 0;
  for (int w : widths) text_width += w + static_cast<int>(spacing);
  const bool loose = random.random_sample() < options.loose_crop_probability;
  const int margin_x = static_cast<int>(text_height * (loose ? random.uniform(0.4, 1.2) : random.uniform(0.05, 0.3)));
  const int width = std::max(options.height, text_width + 2 * margin_x);
  cv::Mat crop(options.height, width, CV_8UC3);
  fill_vertical_gradient(crop, cv::Rect(0, 0, width, options.height), paint, scale_colour(paint, random.uniform(0.7, 1.3)));
  // Painted metal: vertical ribs / panel seams.
  for (int x = static_cast<int>(random.uniform(0, 30)); x < width; x += std::max(8, static_cast<int>(random.uniform(0.6, 1.5) * options.height))) {
    cv::line(crop, {x, 0}, {x, options.height}, scale_colour(paint, 0.75), std::max(1, options.height / 16));
  }
  int x = margin_x;
  const int baseline_y = (options.height + text_height) / 2 + static_cast<int>(random.uniform(-0.08, 0.08) * options.height);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const int jitter_y = static_cast<int>(random.uniform(-0.04, 0.04) * text_height);
    const std::string glyph(1, text[i]);
    if (font.empty()) {
      cv::putText(crop, glyph, {x, baseline_y + jitter_y}, cv::FONT_HERSHEY_DUPLEX, text_height / 22.0, ink, 2, cv::LINE_AA);
    } else {
      font_renderer(font)->putText(crop, glyph, {x, baseline_y + jitter_y}, text_height, ink, -1, cv::LINE_AA, true);
    }
    if (stencil) {
      const int centre = x + widths[i] / 2, top = baseline_y + jitter_y - text_height, bridge = std::max(1, text_height / 10);
      cv::line(crop, {centre, top}, {centre, top + text_height * 3 / 10}, paint, bridge);
      cv::line(crop, {centre, top + text_height * 7 / 10}, {centre, baseline_y + jitter_y}, paint, bridge);
    }
    x += widths[i] + static_cast<int>(spacing * random.uniform(0.6, 1.4));
  }
  if (random.random_sample() < options.stain_probability) add_stains(crop, cv::Rect(0, 0, crop.cols, crop.rows), random);

  // Camera: rotation + perspective, edge-replicated.
  const double w = crop.cols, h = crop.rows, jitter = options.perspective;
  const cv::Point2f source[] = {{0, 0}, {static_cast<float>(w), 0}, {static_cast<float>(w), static_cast<float>(h)}, {0, static_cast<float>(h)}};
  cv::Point2f target[4];
  const double angle = random.uniform(-options.rotation_degrees, options.rotation_degrees) * CV_PI / 180.0;
  for (int i = 0; i < 4; ++i) {
    const double cx = source[i].x - w / 2, cy = source[i].y - h / 2;
    target[i] = cv::Point2f(static_cast<float>(w / 2 + cx * std::cos(angle) - cy * std::sin(angle) + random.uniform(-jitter, jitter) * h),
                            static_cast<float>(h / 2 + cx * std::sin(angle) + cy * std::cos(angle) + random.uniform(-jitter, jitter) * h));
  }
  cv::warpPerspective(crop, crop, cv::getPerspectiveTransform(source, target), crop.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  if (random.random_sample() < options.blur_probability) cv::GaussianBlur(crop, crop, cv::Size(), random.uniform(0.4, 1.3));
  add_texture(crop, cv::Rect(0, 0, crop.cols, crop.rows), random.uniform(2, 10), random);
  const int quality = options.jpeg_quality_min +
                      static_cast<int>(random_index(random, static_cast<std::size_t>(options.jpeg_quality_max - options.jpeg_quality_min + 1)));
  std::vector<unsigned char> encoded;
  cv::imencode(".jpg", crop, encoded, {cv::IMWRITE_JPEG_QUALITY, quality});
  return cv::imdecode(encoded, cv::IMREAD_COLOR);
}

void generate_code_dataset(const CodeDatasetOptions& options) {
  require(options.training_per_folder > 0 && options.validation_per_folder >= 0,
          "need a positive training count per folder, got {}", options.training_per_folder);
  const std::vector<std::pair<std::string, std::vector<CodeFormat>>> folders = {
      {"01", {CodeFormat::kWagonLong, CodeFormat::kWagonShort, CodeFormat::kFourDigits}},
      {"02", {CodeFormat::kIso6346, CodeFormat::kTwoLettersSixDigits, CodeFormat::kLetterDigitsLetters}},
      {"03", {CodeFormat::kFourDigits}},
  };
  NumpyRandom random(options.seed);
  const int total = 3 * (options.training_per_folder + options.validation_per_folder);
  ProgressLine progress("synth_ocr", total, "img");
  for (const char* split : {"training", "validation"}) {
    const int count = std::string(split) == "training" ? options.training_per_folder : options.validation_per_folder;
    for (const auto& [name, formats] : folders) {
      const fs::path folder = fs::path(options.output_dir) / split / name;
      fs::create_directories(folder);
      std::string gt;
      for (int i = 0; i < count; ++i) {
        const std::string code = random_code(formats[random_index(random, formats.size())], random);
        const cv::Mat crop = render_code_crop(code, options.crop, random);
        const std::string file = fmt::format("{}_{:05d}.jpg", name, i + 1);
        std::vector<unsigned char> bytes;
        cv::imencode(".jpg", crop, bytes, {cv::IMWRITE_JPEG_QUALITY, 92});
        write_file_atomically(folder / file, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
        gt += file + "\t" + code + "\n";
        progress.advance();
      }
      write_file_atomically(folder / "gt.txt", gt);
    }
  }
  progress.finish();
}

}  // namespace cargovision
