#include "cargovision/synth/code_crop.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <opencv2/freetype.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <unordered_map>

#include "cargovision/core/atomic_file.h"
#include "cargovision/core/error.h"
#include "cargovision/core/progress.h"
#include "cargovision/data/numpy_random.h"
#include "cargovision/synth/scene_paint.h"

namespace cargovision {
namespace fs = std::filesystem;
namespace {

// FreeType faces are not thread-safe: every loader thread keeps its own face per font file, with the
// widths it has measured. Layout asks for the same glyphs at the same heights over and over, and each
// FreeType measurement runs the font's hinting program again.
struct FontFace {
  cv::Ptr<cv::freetype::FreeType2> renderer;
  std::unordered_map<int, int> widths;  // glyph height * 256 + character -> advance in pixels
};

FontFace& font_face(const std::string& path) {
  thread_local std::map<std::string, FontFace> faces;
  FontFace& face = faces[path];
  if (!face.renderer) {
    face.renderer = cv::freetype::createFreeType2();
    face.renderer->loadFontData(path, 0);
  }
  return face;
}

double luminance(const cv::Scalar& bgr) { return 0.114 * bgr[0] + 0.587 * bgr[1] + 0.299 * bgr[2]; }

// Wall colours of wagons and containers (BGR): blue, red, maroon, green, greys, brown, orange, yellow,
// white, black, teal.
cv::Scalar random_wall(NumpyRandom& random) {
  static const cv::Scalar walls[] = {{140, 75, 25},  {95, 45, 15},   {45, 40, 165},  {45, 30, 110}, {55, 115, 45},
                                     {40, 75, 35},   {130, 130, 128}, {190, 190, 186}, {40, 70, 115}, {60, 95, 150},
                                     {30, 115, 225}, {40, 190, 225}, {225, 225, 220}, {35, 35, 38},  {125, 120, 35}};
  return jitter_colour(walls[random_index(random, std::size(walls))], 22, random);
}

// Paint that reads on the wall: white, yellow or black (sometimes red or dark grey), far enough in
// brightness unless the paint is faded on purpose.
cv::Scalar random_ink(const cv::Scalar& wall, bool low_contrast, NumpyRandom& random) {
  static const cv::Scalar inks[] = {{240, 240, 240}, {240, 240, 240}, {35, 205, 240}, {25, 25, 25},
                                    {25, 25, 25},    {60, 60, 60},    {40, 40, 190},  {200, 200, 200}};
  const double needed = low_contrast ? 50.0 : 70.0;
  cv::Scalar ink;
  for (int attempt = 0; attempt < 12; ++attempt) {
    ink = jitter_colour(inks[random_index(random, std::size(inks))], 18, random);
    if (std::abs(luminance(ink) - luminance(wall)) >= needed) break;
  }
  if (std::abs(luminance(ink) - luminance(wall)) < needed) {
    ink = luminance(wall) > 128 ? jitter_colour({25, 25, 25}, 10, random) : jitter_colour({240, 240, 240}, 10, random);
  }
  if (low_contrast) {
    const double keep = random.uniform(0.55, 0.8);  // faded towards the wall
    ink = ink * keep + wall * (1.0 - keep);
  }
  return ink;
}

// One line of text drawn into an 8-bit mask (255 = paint) at the given glyph height.
class MaskPainter {
 public:
  MaskPainter(std::string font, int glyph_height) : font_(std::move(font)), glyph_height_(glyph_height) {}

  int char_width(char c) const {
    int baseline = 0;
    const std::string glyph(1, c);
    if (font_.empty()) {
      return cv::getTextSize(glyph, cv::FONT_HERSHEY_DUPLEX, glyph_height_ / 22.0, std::max(1, glyph_height_ / 12), &baseline).width;
    }
    FontFace& face = font_face(font_);
    const int key = glyph_height_ * 256 + static_cast<unsigned char>(c);
    const auto known = face.widths.find(key);
    if (known != face.widths.end()) return known->second;
    const int width = face.renderer->getTextSize(glyph, glyph_height_, -1, &baseline).width;
    face.widths.emplace(key, width);
    return width;
  }

  // Draws c with its baseline at `origin` into a 3-channel scratch image (FreeType wants colour).
  void draw(cv::Mat& canvas, char c, cv::Point origin) const {
    const std::string glyph(1, c);
    if (font_.empty()) {
      cv::putText(canvas, glyph, origin, cv::FONT_HERSHEY_DUPLEX, glyph_height_ / 22.0, cv::Scalar::all(255),
                  std::max(1, glyph_height_ / 12), cv::LINE_AA);
    } else {
      font_face(font_).renderer->putText(canvas, glyph, origin, glyph_height_, cv::Scalar::all(255), -1, cv::LINE_AA, true);
    }
  }

 private:
  std::string font_;
  int glyph_height_;
};

struct PlacedGlyph {
  char c;
  cv::Point origin;  // baseline-left
  int width;
};

struct TextMask {
  cv::Mat mask;        // CV_8U, 255 = paint
  cv::Rect text_box;   // where the code's paint is (neighbouring marks stay outside)
};

// Lays the layout out line by line and paints it (glyphs, check-digit boxes, stencil bridges).
TextMask paint_layout(const CodeLayout& layout, const MaskPainter& painter, int glyph_height, bool stencil,
                      NumpyRandom& random) {
  const double char_gap = random.uniform(-0.03, 0.22) * glyph_height;
  const double group_gap = random.uniform(0.35, 1.1) * glyph_height;
  const double line_gap = random.uniform(0.25, 0.6) * glyph_height;
  const bool centred = random.random_sample() < 0.5;
  const int box_margin = std::max(2, static_cast<int>(random.uniform(0.12, 0.25) * glyph_height));

  std::vector<std::vector<PlacedGlyph>> lines;
  std::vector<cv::Rect> boxes;
  std::vector<int> line_widths;
  for (const auto& line : layout.lines) {
    std::vector<PlacedGlyph> placed;
    double x = 0;
    for (std::size_t g = 0; g < line.size(); ++g) {
      const CodeGroup& group = line[g];
      if (g > 0) x += group_gap + (group.boxed ? box_margin : 0);
      const double group_start = x;
      for (char c : group.text) {
        const int width = painter.char_width(c);
        placed.push_back({c, {static_cast<int>(std::lround(x)), 0}, width});
        x += width + char_gap * random.uniform(0.7, 1.3);
      }
      x -= char_gap;
      if (group.boxed) {
        boxes.push_back(cv::Rect(static_cast<int>(group_start) - box_margin, static_cast<int>(lines.size()),
                                 static_cast<int>(x - group_start) + 2 * box_margin, 0));
        x += box_margin;
      }
    }
    line_widths.push_back(static_cast<int>(std::ceil(x)));
    lines.push_back(std::move(placed));
  }
  const int widest = *std::max_element(line_widths.begin(), line_widths.end());
  const int pad = glyph_height / 2 + box_margin;
  const int line_step = glyph_height + static_cast<int>(line_gap);
  const int height = 2 * pad + static_cast<int>(lines.size()) * line_step - static_cast<int>(line_gap);
  cv::Mat canvas = cv::Mat::zeros(height, widest + 2 * pad, CV_8UC3);
  const int thickness = std::max(1, static_cast<int>(random.uniform(0.05, 0.1) * glyph_height));
  for (std::size_t l = 0; l < lines.size(); ++l) {
    const int shift = centred ? (widest - line_widths[l]) / 2 : 0;
    const int baseline = pad + static_cast<int>(l) * line_step + glyph_height;
    for (const auto& glyph : lines[l]) {
      const int jitter_y = static_cast<int>(random.uniform(-0.03, 0.03) * glyph_height);
      const cv::Point origin(pad + shift + glyph.origin.x, baseline + jitter_y);
      painter.draw(canvas, glyph.c, origin);
      if (stencil) {  // the plate's bridges leave unpainted gaps through each glyph
        const int centre = origin.x + glyph.width / 2, top = origin.y - glyph_height;
        const int bridge = std::max(1, glyph_height / 9);
        cv::line(canvas, {centre, top - 2}, {centre, top + glyph_height * 3 / 10}, cv::Scalar::all(0), bridge);
        cv::line(canvas, {centre, top + glyph_height * 7 / 10}, {centre, origin.y + 2}, cv::Scalar::all(0), bridge);
      }
    }
    for (const auto& box : boxes) {
      if (box.y != static_cast<int>(l)) continue;
      const cv::Rect drawn(pad + shift + box.x, baseline - glyph_height - box_margin, box.width,
                           glyph_height + 2 * box_margin);
      cv::rectangle(canvas, drawn, cv::Scalar::all(255), thickness, cv::LINE_AA);
    }
  }
  TextMask result;
  cv::extractChannel(canvas, result.mask, 0);
  cv::Mat points;
  cv::findNonZero(result.mask, points);
  result.text_box = points.empty() ? cv::Rect(0, 0, canvas.cols, canvas.rows) : cv::boundingRect(points);
  return result;
}

// Paint wears: uneven stroke weight, then (with `peel`) flakes where the wall shows through; `glyphs`
// gets the glyphs as painted, before the flakes (only when there are flakes: otherwise they are `mask`).
void wear_paint(cv::Mat& mask, int glyph_height, bool peel, NumpyRandom& random, cv::Mat& glyphs) {
  const double weight = random.random_sample();
  const int k = std::max(1, glyph_height / 20);
  const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * k + 1, 2 * k + 1});
  if (weight < 0.15) cv::erode(mask, mask, kernel);
  else if (weight < 0.3) cv::dilate(mask, mask, kernel);
  if (!peel) return;
  glyphs = mask.clone();
  const int flakes = 2 + static_cast<int>(random_index(random, 10));
  for (int i = 0; i < flakes; ++i) {
    const cv::Point centre(static_cast<int>(random.random_sample() * mask.cols),
                           static_cast<int>(random.random_sample() * mask.rows));
    const cv::Size axes(std::max(1, static_cast<int>(random.uniform(0.05, 0.25) * glyph_height)),
                        std::max(1, static_cast<int>(random.uniform(0.05, 0.2) * glyph_height)));
    cv::ellipse(mask, centre, axes, random.uniform(0, 180), 0, 360, cv::Scalar(0), cv::FILLED, cv::LINE_AA);
  }
}

// Corrugated wall: ribs across the x axis (containers) or y axis (some wagons), lit from one side.
cv::Mat paint_wall(cv::Size size, const cv::Scalar& colour, int glyph_height, NumpyRandom& random) {
  cv::Mat wall(size, CV_32FC3, cv::Scalar(colour[0], colour[1], colour[2]));
  const bool ribbed = random.random_sample() < 0.75;
  const bool vertical_ribs = random.random_sample() < 0.8;
  const double period = random.uniform(0.6, 2.0) * glyph_height;
  const double depth = ribbed ? random.uniform(0.06, 0.3) : 0.0;
  const double phase = random.uniform(0, 2 * CV_PI);
  const double sharpness = random.uniform(1.0, 4.0);
  const double light_from = random.uniform(-0.25, 0.25);
  // The ribs vary along one axis and the light along x: one sine per column or row, not per pixel.
  const int rib_positions = vertical_ribs ? size.width : size.height;
  std::vector<double> rib_shade(static_cast<std::size_t>(std::max(0, rib_positions)));
  for (int i = 0; i < rib_positions; ++i) {
    const double t = i / period * 2 * CV_PI + phase;
    rib_shade[static_cast<std::size_t>(i)] = 1.0 + depth * std::clamp(std::sin(t) * sharpness, -1.0, 1.0);
  }
  std::vector<double> gradient(static_cast<std::size_t>(std::max(0, size.width)));
  for (int x = 0; x < size.width; ++x) {
    gradient[static_cast<std::size_t>(x)] = 1.0 + light_from * (static_cast<double>(x) / std::max(1, size.width) - 0.5);
  }
  for (int y = 0; y < size.height; ++y) {
    auto* row = wall.ptr<cv::Vec3f>(y);
    for (int x = 0; x < size.width; ++x) {
      const double shade = rib_shade[static_cast<std::size_t>(vertical_ribs ? x : y)] * gradient[static_cast<std::size_t>(x)];
      row[x] *= static_cast<float>(shade);
    }
  }
  return wall;
}

// Other paint near the code, kept outside its box and cut by the frame: another line of a code above
// or below, a fragment at a side, a door bar or panel edge.
void add_neighbours(cv::Mat& mask, const cv::Rect& text_box, const MaskPainter& painter, int glyph_height,
                    NumpyRandom& random) {
  const int kind = static_cast<int>(random_index(random, 4));
  const int gap = std::max(3, glyph_height / 3);
  if (kind == 0 || kind == 1) {  // a cut line of other characters above or below
    cv::Mat scratch = cv::Mat::zeros(mask.size(), CV_8UC3);
    const bool above = kind == 0;
    const int baseline = above ? text_box.y - gap : text_box.br().y + gap + glyph_height;
    int x = static_cast<int>(random.uniform(-0.5, 0.5) * glyph_height) + text_box.x;
    const int count = 2 + static_cast<int>(random_index(random, 8));
    for (int i = 0; i < count && x < mask.cols; ++i) {
      const char c = random.random_sample() < 0.6 ? static_cast<char>('0' + random_index(random, 10))
                                                   : static_cast<char>('A' + random_index(random, 26));
      painter.draw(scratch, c, {x, baseline});
      x += painter.char_width(c) + glyph_height / 8;
    }
    cv::Mat other;
    cv::extractChannel(scratch, other, 0);
    // Only what stays clear of the code counts: a band of the gap around the code's box is blanked.
    const cv::Rect keep_out(text_box.x - gap, text_box.y - gap / 2, text_box.width + 2 * gap, text_box.height + gap);
    other(keep_out & cv::Rect(0, 0, mask.cols, mask.rows)).setTo(0);
    cv::max(mask, other, mask);
  } else if (kind == 2) {  // a vertical bar or panel edge beside the code
    const bool left = random.random_sample() < 0.5;
    const int x = left ? text_box.x - gap - static_cast<int>(random.uniform(0, 0.6) * glyph_height)
                       : text_box.br().x + gap + static_cast<int>(random.uniform(0, 0.6) * glyph_height);
    const int thickness = std::max(2, static_cast<int>(random.uniform(0.1, 0.4) * glyph_height));
    cv::line(mask, {x, 0}, {x, mask.rows}, cv::Scalar(255), thickness);
  } else {  // a horizontal edge (a rail, the panel's rim) above or below
    const bool above = random.random_sample() < 0.5;
    const int y = above ? text_box.y - gap - static_cast<int>(random.uniform(0, 0.4) * glyph_height)
                        : text_box.br().y + gap + static_cast<int>(random.uniform(0, 0.4) * glyph_height);
    const int thickness = std::max(2, static_cast<int>(random.uniform(0.08, 0.3) * glyph_height));
    cv::line(mask, {0, y}, {mask.cols, y}, cv::Scalar(255), thickness);
  }
}

void add_shadow(cv::Mat& image, NumpyRandom& random) {
  // A soft-edged half-plane darkened, as the shade of a neighbouring wagon or the container's roof.
  cv::Mat shade(image.size(), CV_32F, cv::Scalar(1.0f));
  const double angle = random.uniform(0, 2 * CV_PI);
  const double nx = std::cos(angle), ny = std::sin(angle);
  const double offset = random.uniform(-0.3, 0.3) * (image.cols * std::abs(nx) + image.rows * std::abs(ny));
  const double softness = std::max(1.0, random.uniform(0.02, 0.2) * image.rows);
  const float darkness = static_cast<float>(random.uniform(0.45, 0.85));
  for (int y = 0; y < image.rows; ++y) {
    auto* row = shade.ptr<float>(y);
    for (int x = 0; x < image.cols; ++x) {
      const double d = (x - image.cols / 2.0) * nx + (y - image.rows / 2.0) * ny - offset;
      const double inside = 1.0 / (1.0 + std::exp(-d / softness));
      row[x] = static_cast<float>(1.0 - (1.0 - darkness) * inside);
    }
  }
  cv::Mat channels[3];
  cv::split(image, channels);
  for (auto& channel : channels) cv::multiply(channel, shade, channel);
  cv::merge(channels, 3, image);
}

void add_glare(cv::Mat& image, NumpyRandom& random) {
  cv::Mat spot(image.size(), CV_32F, cv::Scalar(0.0f));
  const cv::Point centre(static_cast<int>(random.random_sample() * image.cols),
                         static_cast<int>(random.random_sample() * image.rows));
  const cv::Size axes(std::max(2, static_cast<int>(random.uniform(0.15, 0.6) * image.rows)),
                      std::max(2, static_cast<int>(random.uniform(0.15, 0.45) * image.rows)));
  cv::ellipse(spot, centre, axes, random.uniform(0, 180), 0, 360, cv::Scalar(1.0f), cv::FILLED);
  const int kernel = (std::max(axes.width, axes.height) | 1);
  cv::GaussianBlur(spot, spot, cv::Size(kernel, kernel), 0);
  const double strength = random.uniform(40, 130);
  cv::Mat channels[3];
  cv::split(image, channels);
  for (auto& channel : channels) cv::scaleAdd(spot, strength, channel, channel);
  cv::merge(channels, 3, image);
}

// Camera: motion, defocus or plain blur at the crop's final size.
void blur_like_a_camera(cv::Mat& image, NumpyRandom& random) {
  const double kind = random.random_sample();
  if (kind < 0.35) {
    const int length = 2 + static_cast<int>(random_index(random, 5));
    cv::Mat kernel = cv::Mat::zeros(length, length, CV_32F);
    const double angle = random.uniform(-0.5, 0.5);  // mostly horizontal: the train moves
    const cv::Point2d centre((length - 1) / 2.0, (length - 1) / 2.0);
    cv::line(kernel, centre - cv::Point2d(std::cos(angle), std::sin(angle)) * (length / 2.0),
             centre + cv::Point2d(std::cos(angle), std::sin(angle)) * (length / 2.0), cv::Scalar(1.0f));
    kernel /= std::max(1e-6, cv::sum(kernel)[0]);
    cv::filter2D(image, image, -1, kernel, {-1, -1}, 0, cv::BORDER_REPLICATE);
  } else if (kind < 0.6) {
    const int radius = 1 + static_cast<int>(random_index(random, 2));
    cv::Mat kernel = cv::Mat::zeros(2 * radius + 1, 2 * radius + 1, CV_32F);
    cv::circle(kernel, {radius, radius}, radius, cv::Scalar(1.0f), cv::FILLED);
    kernel /= cv::sum(kernel)[0];
    cv::filter2D(image, image, -1, kernel, {-1, -1}, 0, cv::BORDER_REPLICATE);
  } else {
    cv::GaussianBlur(image, image, cv::Size(), random.uniform(0.4, 1.4));
  }
}

struct RenderedCrop {
  cv::Mat image;      // BGR
  cv::Mat code_mask;  // the code's own paint on the same pixels (neighbouring marks left out)
  cv::Mat glyph_mask; // the same before wear: the glyphs as painted, flakes not taken out
};

RenderedCrop render_attempt(const CodeLayout& layout, const CodeCropOptions& options, double difficulty,
                            NumpyRandom& random) {
  const std::vector<std::string>& fonts = options.fonts.empty() ? find_system_fonts() : options.fonts;
  const std::string font = fonts.empty() ? "" : fonts[random_index(random, fonts.size())];
  // Drawn large, then shrunk to the crop size, so small crops get real antialiasing.
  const int glyph_height = 28 + static_cast<int>(random_index(random, 28));
  const MaskPainter painter(font, glyph_height);
  const double d = std::clamp(difficulty, 0.0, 1.0);
  const bool stencil = random.random_sample() < options.stencil_probability * d;
  TextMask text = paint_layout(layout, painter, glyph_height, stencil, random);

  if (random.random_sample() < options.condensed_probability * (0.5 + 0.5 * d)) {
    const double squeeze = random.uniform(0.6, 0.9);
    cv::resize(text.mask, text.mask, cv::Size(), squeeze, 1.0, cv::INTER_AREA);
    text.text_box = cv::Rect(static_cast<int>(text.text_box.x * squeeze), text.text_box.y,
                             std::max(1, static_cast<int>(text.text_box.width * squeeze)), text.text_box.height);
  } else if (random.random_sample() < 0.2) {
    const double widen = random.uniform(1.05, 1.25);
    cv::resize(text.mask, text.mask, cv::Size(), widen, 1.0, cv::INTER_LINEAR);
    text.text_box = cv::Rect(static_cast<int>(text.text_box.x * widen), text.text_box.y,
                             static_cast<int>(text.text_box.width * widen), text.text_box.height);
  }
  const bool peeled = random.random_sample() < options.peel_probability * d;
  cv::Mat glyph_paint;  // the glyphs before flakes came off; without flakes they are the code's paint itself
  wear_paint(text.mask, glyph_height, peeled, random, glyph_paint);

  // Margins around the code: tight crops clip close to the paint, loose ones show the wall around it.
  const bool loose = random.random_sample() < options.loose_crop_probability;
  const auto margin = [&](double tight_low, double tight_high, double loose_low, double loose_high) {
    return static_cast<int>(glyph_height * (loose ? random.uniform(loose_low, loose_high) : random.uniform(tight_low, tight_high)));
  };
  const int left = margin(0.06, 0.3, 0.4, 1.5), right = margin(0.06, 0.3, 0.4, 1.5);
  const int top = margin(0.06, 0.25, 0.3, 1.0), bottom = margin(0.06, 0.25, 0.3, 1.0);
  // A tight crop hugs the paint, it does not cut it: glyphs of oblique faces and boxes reach past the
  // text's nominal box.
  const int hug = std::max(1, glyph_height / 30);
  const cv::Rect frame = cv::Rect(text.text_box.x - left, text.text_box.y - top, text.text_box.width + left + right,
                                  text.text_box.height + top + bottom) |
                         (cv::boundingRect(text.mask) - cv::Point(hug, hug) + cv::Size(2 * hug, 2 * hug));
  // Room for the frame wherever it reaches past the painted canvas.
  const int grow = std::max({0, -frame.x, -frame.y, frame.br().x - text.mask.cols, frame.br().y - text.mask.rows});
  cv::copyMakeBorder(text.mask, text.mask, grow, grow, grow, grow, cv::BORDER_CONSTANT, cv::Scalar(0));
  if (peeled) cv::copyMakeBorder(glyph_paint, glyph_paint, grow, grow, grow, grow, cv::BORDER_CONSTANT, cv::Scalar(0));
  text.text_box += cv::Point(grow, grow);
  const cv::Mat code_paint = text.mask.clone();
  if (random.random_sample() < options.neighbour_probability * d) {
    add_neighbours(text.mask, text.text_box, painter, glyph_height, random);
  }

  const bool low_contrast = random.random_sample() < options.low_contrast_probability * d;
  const cv::Scalar wall_colour = random_wall(random);
  const cv::Scalar ink = random_ink(wall_colour, low_contrast, random);
  cv::Mat image = paint_wall(text.mask.size(), wall_colour, glyph_height, random);
  cv::Mat alpha;
  text.mask.convertTo(alpha, CV_32F, random.uniform(0.8, 1.0) / 255.0);
  if (random.random_sample() < 0.4 * d) {  // mottled paint: opacity varies over the strokes
    cv::Mat mottle(alpha.size(), CV_32F);
    cv::RNG rng(random.engine()());
    rng.fill(mottle, cv::RNG::UNIFORM, 0.55, 1.0);
    const int k = (std::max(3, glyph_height / 6) | 1);
    cv::GaussianBlur(mottle, mottle, cv::Size(k, k), 0);
    cv::multiply(alpha, mottle, alpha);
  }
  cv::Mat ink_plane(image.size(), CV_32FC3, cv::Scalar(ink[0], ink[1], ink[2]));
  cv::Mat alpha3;
  cv::merge(std::vector<cv::Mat>{alpha, alpha, alpha}, alpha3);
  image = image.mul(cv::Scalar::all(1.0) - alpha3) + ink_plane.mul(alpha3);
  if (random.random_sample() < options.shadow_probability * d) add_shadow(image, random);
  if (random.random_sample() < options.glare_probability * d) add_glare(image, random);
  cv::Mat painted;
  image.convertTo(painted, CV_8UC3);
  if (random.random_sample() < options.stain_probability * d) add_stains(painted, cv::Rect(0, 0, painted.cols, painted.rows), random);

  // Camera: rotation and perspective about the crop's frame, edges replicated.
  cv::Mat crop = painted(frame + cv::Point(grow, grow)).clone();
  const double w = crop.cols, h = crop.rows, jitter = options.perspective * (0.3 + 0.7 * d);
  const cv::Point2f source[] = {{0, 0}, {static_cast<float>(w), 0}, {static_cast<float>(w), static_cast<float>(h)}, {0, static_cast<float>(h)}};
  const double max_angle = options.rotation_degrees * (0.3 + 0.7 * d);
  const double angle = random.uniform(-max_angle, max_angle) * CV_PI / 180.0;
  double corner_jitter[4][2];
  for (auto& corner : corner_jitter) {
    corner[0] = random.uniform(-jitter, jitter) * h;
    corner[1] = random.uniform(-jitter, jitter) * h;
  }
  // A tilt about the centre of a long, tightly framed code swings its ends out of the frame; a glyph
  // cut there leaves a label the image cannot show. The tilt is halved until the frame keeps nearly all
  // of the code's paint (neighbouring marks may still be cut).
  const cv::Mat framed_paint = code_paint(frame + cv::Point(grow, grow));
  const double paint_mass = cv::sum(framed_paint)[0];
  cv::Mat camera, code_mask;
  for (double tilt = 1.0;; tilt *= 0.5) {
    cv::Point2f target[4];
    for (int i = 0; i < 4; ++i) {
      const double cx = source[i].x - w / 2, cy = source[i].y - h / 2, turn = tilt * angle;
      target[i] = cv::Point2f(static_cast<float>(w / 2 + cx * std::cos(turn) - cy * std::sin(turn) + tilt * corner_jitter[i][0]),
                              static_cast<float>(h / 2 + cx * std::sin(turn) + cy * std::cos(turn) + tilt * corner_jitter[i][1]));
    }
    camera = cv::getPerspectiveTransform(source, target);
    cv::warpPerspective(framed_paint, code_mask, camera, crop.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0));
    if (tilt < 0.1 || cv::sum(code_mask)[0] >= 0.98 * paint_mass) break;
  }
  cv::warpPerspective(crop, crop, camera, crop.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  cv::Mat glyph_mask;
  if (peeled) {
    cv::warpPerspective(glyph_paint(frame + cv::Point(grow, grow)), glyph_mask, camera, crop.size(), cv::INTER_LINEAR,
                        cv::BORDER_CONSTANT, cv::Scalar(0));
  }

  // Lines of text no smaller than min_line_height pixels where the height is drawn (within max_height).
  const double line_pitch = static_cast<double>(text.text_box.height) / static_cast<double>(layout.lines.size());
  const int lowest = std::clamp(static_cast<int>(std::ceil(options.min_line_height * crop.rows / line_pitch)),
                                options.min_height, options.max_height);
  const int height = options.height > 0 ? options.height
                                        : lowest + static_cast<int>(random_index(
                                              random, static_cast<std::size_t>(options.max_height - lowest + 1)));
  const double scale = static_cast<double>(height) / crop.rows;
  const int width = std::max(4, static_cast<int>(std::lround(crop.cols * scale)));
  cv::resize(code_mask, code_mask, cv::Size(width, height), 0, 0, cv::INTER_AREA);
  if (peeled) cv::resize(glyph_mask, glyph_mask, cv::Size(width, height), 0, 0, cv::INTER_AREA);
  if (random.random_sample() < options.low_resolution_probability * d) {
    const double shrink = random.uniform(0.4, 0.8);
    cv::resize(crop, crop, cv::Size(std::max(2, static_cast<int>(width * shrink)), std::max(2, static_cast<int>(height * shrink))),
               0, 0, cv::INTER_AREA);
    cv::resize(crop, crop, cv::Size(width, height), 0, 0, random.random_sample() < 0.5 ? cv::INTER_LINEAR : cv::INTER_NEAREST);
  } else {
    cv::resize(crop, crop, cv::Size(width, height), 0, 0, cv::INTER_AREA);
  }
  if (random.random_sample() < options.blur_probability * d) blur_like_a_camera(crop, random);
  // Exposure and sensor: contrast, brightness, grain.
  crop.convertTo(crop, -1, 1.0 + d * random.uniform(-0.3, 0.25), d * random.uniform(-35, 35));
  add_texture(crop, cv::Rect(0, 0, crop.cols, crop.rows), random.uniform(1, 1 + 8 * d), random);
  const int lowest_quality = options.jpeg_quality_max -
                             static_cast<int>(std::lround((options.jpeg_quality_max - options.jpeg_quality_min) * d));
  const int quality = lowest_quality +
                      static_cast<int>(random_index(random, static_cast<std::size_t>(options.jpeg_quality_max - lowest_quality + 1)));
  std::vector<unsigned char> encoded;
  cv::imencode(".jpg", crop, encoded, {cv::IMWRITE_JPEG_QUALITY, quality});
  return {cv::imdecode(encoded, cv::IMREAD_COLOR), code_mask, peeled ? glyph_mask : code_mask};
}

}  // namespace

namespace {

double median_of(std::vector<unsigned char>& values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

// Pearson correlation of two float images over a region; 0 where either is flat there.
double correlation(const cv::Mat& first, const cv::Mat& second, const cv::Rect& region) {
  cv::Scalar first_mean, first_spread, second_mean, second_spread;
  cv::meanStdDev(first(region), first_mean, first_spread);
  cv::meanStdDev(second(region), second_mean, second_spread);
  if (first_spread[0] < 1e-6 || second_spread[0] < 1e-6) return 0.0;
  const cv::Mat first_centred = first(region) - first_mean[0];
  const cv::Mat second_centred = second(region) - second_mean[0];
  return first_centred.dot(second_centred) / region.area() / (first_spread[0] * second_spread[0]);
}

// How much of the paint's shape is left in the grey crop as a reader of `reader_height` pixels sees
// it. Contrast alone misses codes blurred into blobs or pixelated past their strokes (their centres
// still stand out) and small codes in loose crops; the correlation at the scale of strokes does not.
double shape_fidelity(const cv::Mat& grey, const cv::Mat& code_mask, int slices, int reader_height) {
  const int width = std::max(1, static_cast<int>(std::lround(grey.cols * static_cast<double>(reader_height) / grey.rows)));
  const cv::Size seen(width, reader_height);
  cv::Mat crop_levels, paint_cover, touched;
  grey.convertTo(crop_levels, CV_32F);
  code_mask.convertTo(paint_cover, CV_32F, 1.0 / 255.0);
  cv::resize(crop_levels, crop_levels, seen, 0, 0, cv::INTER_AREA);
  cv::resize(paint_cover, paint_cover, seen, 0, 0, cv::INTER_AREA);
  cv::resize(code_mask >= 24, touched, seen, 0, 0, cv::INTER_AREA);
  // Strokes, not shading: both images minus their local level (a shadow's edge, glare, a gradient).
  const double sigma = 3.0 * reader_height / 32.0;
  for (cv::Mat* image : {&crop_levels, &paint_cover}) {
    cv::Mat level;
    cv::GaussianBlur(*image, level, cv::Size(), sigma, sigma, cv::BORDER_REPLICATE);
    *image -= level;
  }
  const cv::Rect span = cv::boundingRect(touched > 0);
  if (span.area() == 0) return 0.0;
  const cv::Rect around = (span - cv::Point(2, 2) + cv::Size(4, 4)) & cv::Rect(cv::Point(0, 0), seen);
  const double overall = correlation(crop_levels, paint_cover, around);
  const double polarity = overall < 0.0 ? -1.0 : 1.0;
  double weakest = std::abs(overall);
  for (int slice = 0; slice < slices; ++slice) {
    const int left = around.x + slice * around.width / slices;
    const int right = around.x + (slice + 1) * around.width / slices;
    if (right - left < 2) continue;
    const cv::Rect part(left, around.y, right - left, around.height);
    cv::Scalar mean, spread;
    cv::meanStdDev(paint_cover(part), mean, spread);
    if (spread[0] < 0.05) continue;  // a gap between groups: nothing to read there
    weakest = std::min(weakest, polarity * correlation(crop_levels, paint_cover, part));
  }
  return std::max(0.0, weakest);
}

}  // namespace

CodeLegibility measure_code_legibility(const cv::Mat& crop, const cv::Mat& code_mask, int slices, int reader_height,
                                       const cv::Mat& glyph_mask) {
  require(crop.size() == code_mask.size() && code_mask.type() == CV_8U && slices > 0,
          "measure_code_legibility needs a crop and an 8-bit mask of the same size");
  require(glyph_mask.empty() || (glyph_mask.size() == crop.size() && glyph_mask.type() == CV_8U),
          "measure_code_legibility: the glyph mask must be 8-bit and the crop's size");
  require(reader_height >= 8, "the legibility height must be at least 8 pixels, got {}", reader_height);
  cv::Mat grey;
  cv::cvtColor(crop, grey, cv::COLOR_BGR2GRAY);
  // Paint: pixels at least half covered by the code's strokes. Touched: any trace of them, so that a
  // glyph whose strokes shrank below a pixel still counts as there (and unreadable). Wall: what lies a
  // little away from any paint (antialiased edges and blur halos belong to neither).
  const cv::Mat paint = code_mask >= 128;
  const cv::Mat touched = code_mask >= 24;
  cv::Mat near_paint;
  const int reach = std::max(1, crop.rows / 12);
  cv::dilate(touched, near_paint, cv::getStructuringElement(cv::MORPH_RECT, {2 * reach + 1, 2 * reach + 1}));
  const cv::Rect span = cv::boundingRect(touched);
  if (span.area() == 0) return {};
  const int pad = std::max(2, span.height / 3);
  const cv::Rect around = (span - cv::Point(pad, pad) + cv::Size(2 * pad, 2 * pad)) & cv::Rect(0, 0, crop.cols, crop.rows);
  std::vector<std::vector<unsigned char>> paint_values(static_cast<std::size_t>(slices));
  std::vector<std::vector<unsigned char>> wall_values(static_cast<std::size_t>(slices));
  std::vector<std::size_t> touched_counts(static_cast<std::size_t>(slices), 0);
  std::vector<unsigned char> band_wall;
  for (int y = around.y; y < around.br().y; ++y) {
    const auto* grey_row = grey.ptr<unsigned char>(y);
    const auto* paint_row = paint.ptr<unsigned char>(y);
    const auto* touched_row = touched.ptr<unsigned char>(y);
    const auto* near_row = near_paint.ptr<unsigned char>(y);
    for (int x = around.x; x < around.br().x; ++x) {
      const bool wall = near_row[x] == 0;
      if (wall) band_wall.push_back(grey_row[x]);
      if (x < span.x || x >= span.br().x) continue;
      const auto slice = static_cast<std::size_t>((x - span.x) * slices / span.width);
      if (paint_row[x] != 0) paint_values[slice].push_back(grey_row[x]);
      if (touched_row[x] != 0) ++touched_counts[slice];
      if (wall) wall_values[slice].push_back(grey_row[x]);
    }
  }
  // A tight crop may show no wall beside the code's rows: then any wall in the crop.
  if (band_wall.size() < 8) {
    band_wall.clear();
    for (int y = 0; y < crop.rows; ++y) {
      for (int x = 0; x < crop.cols; ++x) {
        if (near_paint.at<unsigned char>(y, x) == 0) band_wall.push_back(grey.at<unsigned char>(y, x));
      }
    }
  }
  if (band_wall.size() < 8) return {};
  // Noise: how much the wall varies at the scale of strokes (grain, texture, stains, JPEG), without
  // the shading across it (a shadow's edge, glare, a gradient) a reader sees through: the wall minus its
  // local level, the level a blur of the wall alone (paint left out), 1.4826 x median absolute deviation.
  cv::Mat wall_only, wall_weight, level;
  const double sigma = std::max(1.5, crop.rows / 6.0);
  cv::Mat wall_mask;
  cv::bitwise_not(near_paint, wall_mask);
  wall_mask.convertTo(wall_weight, CV_32F, 1.0 / 255.0);
  grey.convertTo(wall_only, CV_32F);
  wall_only = wall_only.mul(wall_weight);
  cv::GaussianBlur(wall_only, level, cv::Size(), sigma, sigma, cv::BORDER_REPLICATE);
  cv::GaussianBlur(wall_weight, wall_weight, cv::Size(), sigma, sigma, cv::BORDER_REPLICATE);
  std::vector<float> residuals;
  for (int y = around.y; y < around.br().y; ++y) {
    for (int x = around.x; x < around.br().x; ++x) {
      const float weight = wall_weight.at<float>(y, x);
      if (wall_mask.at<unsigned char>(y, x) == 0 || weight < 0.05f) continue;
      residuals.push_back(std::abs(grey.at<unsigned char>(y, x) - level.at<float>(y, x) / weight));
    }
  }
  double noise = 0.0;
  if (!residuals.empty()) {
    const auto middle = residuals.begin() + static_cast<std::ptrdiff_t>(residuals.size() / 2);
    std::nth_element(residuals.begin(), middle, residuals.end());
    noise = 1.4826 * *middle;
  }
  std::vector<std::size_t> counts;
  for (const std::size_t count : touched_counts) {
    if (count > 0) counts.push_back(count);
  }
  CodeLegibility legibility;
  if (counts.empty()) return legibility;
  std::nth_element(counts.begin(), counts.begin() + static_cast<std::ptrdiff_t>(counts.size() / 2), counts.end());
  // Slices that hold only the tip of a glyph (or a gap between groups) say nothing either way.
  const std::size_t enough = std::max<std::size_t>(4, counts[counts.size() / 2] / 4);
  // Medians, not means: a slice's paint level is its strokes' centres, not the edges blur mixes with
  // the wall; its wall level is the wall, not a stain or a neighbouring mark crossing it.
  legibility.contrast = 255.0;
  bool measured = false;
  for (std::size_t slice = 0; slice < paint_values.size(); ++slice) {
    if (touched_counts[slice] < enough) continue;
    measured = true;
    if (paint_values[slice].size() < std::max<std::size_t>(2, touched_counts[slice] / 10)) {
      // The strokes blurred into the wall: nothing solid is left to read.
      legibility.contrast = 0.0;
      continue;
    }
    auto& wall = wall_values[slice].size() >= 4 ? wall_values[slice] : band_wall;
    legibility.contrast = std::min(legibility.contrast, std::abs(median_of(paint_values[slice]) - median_of(wall)));
  }
  if (!measured) return {};
  legibility.wall_noise = noise;
  // Grey levels are whole numbers: a flat wall's spread counts as one level.
  legibility.contrast_to_noise = legibility.contrast / std::max(1.0, noise);
  legibility.shape_fidelity = shape_fidelity(grey, glyph_mask.empty() ? code_mask : glyph_mask, slices, reader_height);
  return legibility;
}

bool is_legible(const CodeLegibility& legibility, const CodeCropOptions& options) {
  return legibility.contrast >= options.min_text_contrast &&
         legibility.contrast_to_noise >= options.min_contrast_to_noise &&
         legibility.shape_fidelity >= options.min_shape_fidelity;
}

cv::Mat render_code_crop(const CodeLayout& layout, const CodeCropOptions& options, NumpyRandom& random,
                         LegibilityReport* report) {
  require(options.height == 0 || options.height >= 12, "crop height must be at least 12, got {}", options.height);
  require(options.height != 0 || (options.min_height >= 12 && options.max_height >= options.min_height),
          "crop heights must satisfy 12 <= min ({}) <= max ({})", options.min_height, options.max_height);
  require(!layout.lines.empty() && !layout.label.empty(), "cannot render an empty code");
  require(options.jpeg_quality_min >= 1 && options.jpeg_quality_max <= 100 &&
              options.jpeg_quality_min <= options.jpeg_quality_max,
          "JPEG qualities must satisfy 1 <= min ({}) <= max ({}) <= 100", options.jpeg_quality_min,
          options.jpeg_quality_max);
  // Characters per line decide the slices: one per character of the longest line.
  std::size_t longest = 1;
  for (const auto& line : layout.lines) {
    std::size_t characters = 0;
    for (const auto& group : line) characters += group.text.size();
    longest = std::max(longest, characters);
  }
  const double difficulty = std::clamp(options.difficulty, 0.0, 1.0);
  constexpr int kAttempts = 4;
  RenderedCrop rendered;
  CodeLegibility legibility;
  int draws = 0;
  const bool check = options.min_text_contrast > 0 || options.min_contrast_to_noise > 0 || options.min_shape_fidelity > 0;
  while (draws < kAttempts) {
    // Each new draw is milder; the last is clean paint, which always reads.
    const double milder = draws + 1 == kAttempts ? 0.0 : difficulty * (1.0 - 0.3 * draws);
    rendered = render_attempt(layout, options, milder, random);
    ++draws;
    legibility = measure_code_legibility(rendered.image, rendered.code_mask, static_cast<int>(longest),
                                         options.legibility_height, rendered.glyph_mask);
    if (!check || is_legible(legibility, options)) break;
  }
  if (report != nullptr) *report = {draws, legibility, rendered.code_mask};
  return rendered.image;
}

cv::Mat render_code_crop(const std::string& text, const CodeCropOptions& options, NumpyRandom& random) {
  require(!text.empty(), "cannot render an empty code");
  return render_code_crop(CodeLayout{text, {{{text, false}}}}, options, random);
}

CodeSample random_code_sample(const CodeCropOptions& options, NumpyRandom& random) {
  const CodeFormat format = random_format(random);
  const std::string code = random_code(format, random);
  CodeLayout layout = random_layout(code, format, random);
  // The lines of a stacked number also come alone: a detector crops one line, and the container-number
  // check (ocr/code_check) reads a stacked number again band by band.
  if (layout.lines.size() > 1 && random.random_sample() < 0.3) {
    const std::vector<CodeGroup> line = layout.lines[random_index(random, layout.lines.size())];
    layout.lines = {line};
    layout.label.clear();
    for (const CodeGroup& group : line) layout.label += group.text;
  }
  return {layout.label, render_code_crop(layout, options, random)};
}

void generate_code_dataset(const CodeDatasetOptions& options) {
  require(options.training_per_folder > 0 && options.validation_per_folder >= 0,
          "need a positive training count per folder, got {}", options.training_per_folder);
  const std::vector<std::pair<std::string, std::vector<CodeFormat>>> folders = {
      {"01", {CodeFormat::kWagonLong, CodeFormat::kWagonShort, CodeFormat::kFourDigits}},
      {"02", {CodeFormat::kIso6346, CodeFormat::kTwoLettersSixDigits, CodeFormat::kLetterDigitsLetters, CodeFormat::kSizeType}},
      {"03", {CodeFormat::kFourDigits}},
  };
  NumpyRandom random(options.seed);
  const int total = 3 * (options.training_per_folder + options.validation_per_folder);
  int redrawn = 0;
  ProgressLine progress("synth_ocr", total, "img");
  for (const char* split : {"training", "validation"}) {
    const int count = std::string(split) == "training" ? options.training_per_folder : options.validation_per_folder;
    for (const auto& [name, formats] : folders) {
      const fs::path folder = fs::path(options.output_dir) / split / name;
      fs::create_directories(folder);
      std::string gt;
      for (int i = 0; i < count; ++i) {
        const CodeFormat format = formats[random_index(random, formats.size())];
        const std::string code = random_code(format, random);
        LegibilityReport legibility;
        const cv::Mat crop = render_code_crop(random_layout(code, format, random), options.crop, random, &legibility);
        const std::string file = fmt::format("{}_{:05d}.jpg", name, i + 1);
        redrawn += legibility.draws > 1 ? 1 : 0;
        if (options.write_masks) {
          std::vector<unsigned char> mask_bytes;
          cv::imencode(".png", legibility.code_mask, mask_bytes);
          write_file_atomically(folder / fmt::format("{}_{:05d}_mask.png", name, i + 1),
                                std::string_view(reinterpret_cast<const char*>(mask_bytes.data()), mask_bytes.size()));
        }
        spdlog::debug("{}/{}: code contrast {:.0f}, {:.1f} x the wall's noise, shape fidelity {:.2f} after {} draw(s)",
                      folder.string(), file, legibility.legibility.contrast, legibility.legibility.contrast_to_noise,
                      legibility.legibility.shape_fidelity, legibility.draws);
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
  spdlog::info("{} of {} crops ({:.1f} %) were drawn again, milder, to keep their code legible (--min-contrast {}, "
               "--min-contrast-to-noise {}, --min-shape-fidelity {})",
               redrawn, total, 100.0 * redrawn / total, options.crop.min_text_contrast, options.crop.min_contrast_to_noise,
               options.crop.min_shape_fidelity);
}

}  // namespace cargovision
