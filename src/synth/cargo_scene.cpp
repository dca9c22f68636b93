#include "cargovision/synth/cargo_scene.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "cargovision/core/atomic_file.h"
#include "cargovision/core/error.h"
#include "cargovision/core/progress.h"
#include "cargovision/data/numpy_random.h"
#include "cargovision/synth/scene_paint.h"

namespace cargovision {
namespace {

using Polygon = std::vector<cv::Point>;

struct Bed {
  double left, right;     // near rim x extent
  double near_rim;        // y of the near (lower) rim
  double bottom;          // y of the body's lower edge
  double depth;           // vertical foreshortening of the bed opening
  double skew;            // horizontal offset of the far rim
  double far_rim() const { return near_rim - depth; }
  double width() const { return right - left; }
};

cv::Scalar body_colour(NumpyRandom& random) {
  static const cv::Scalar palette[] = {{40, 60, 120}, {35, 45, 90}, {60, 80, 70}, {90, 90, 90},
                                       {30, 70, 150}, {110, 70, 40}, {50, 50, 60}, {70, 110, 140}};
  const cv::Scalar base = palette[random_index(random, std::size(palette))];
  return jitter_colour(base, 18.0, random);
}

void draw_background(cv::Mat& image, double horizon, NumpyRandom& random) {
  const cv::Scalar sky_top = jitter_colour({200, 170, 130}, 30, random);
  const cv::Scalar sky_low = jitter_colour({225, 215, 205}, 25, random);
  const cv::Scalar ground = jitter_colour({95, 105, 115}, 25, random);
  const cv::Scalar ground_far = jitter_colour({110, 125, 125}, 25, random);
  fill_vertical_gradient(image, cv::Rect(0, 0, image.cols, static_cast<int>(horizon)), sky_top, sky_low);
  fill_vertical_gradient(image, cv::Rect(0, static_cast<int>(horizon), image.cols, image.rows - static_cast<int>(horizon)),
                         ground_far, ground);
  // Distant buildings or trees on the horizon line keep the sky/ground split from being trivial.
  const int blocks = 2 + static_cast<int>(random_index(random, 6));
  for (int i = 0; i < blocks; ++i) {
    const int x = static_cast<int>(random.uniform(-0.1, 1.0) * image.cols);
    const int w = static_cast<int>(random.uniform(0.08, 0.3) * image.cols);
    const int h = static_cast<int>(random.uniform(0.03, 0.15) * image.rows);
    cv::rectangle(image, cv::Rect(x, static_cast<int>(horizon) - h, w, h), jitter_colour({120, 125, 120}, 35, random),
                  cv::FILLED);
  }
  add_texture(image, cv::Rect(0, static_cast<int>(horizon), image.cols, image.rows - static_cast<int>(horizon)), 14.0,
              random);
}

void draw_rails(cv::Mat& image, double rail_y, NumpyRandom& random) {
  const cv::Scalar steel = jitter_colour({150, 150, 155}, 20, random);
  const int thickness = std::max(1, image.rows / 90);
  for (double offset : {0.0, image.rows * 0.05}) {
    const int y = static_cast<int>(rail_y + offset);
    cv::line(image, {0, y}, {image.cols, y}, steel, thickness, cv::LINE_AA);
  }
  for (int x = static_cast<int>(random.uniform(0, 20)); x < image.cols; x += image.cols / 12) {
    cv::line(image, {x, static_cast<int>(rail_y - 2)}, {x - image.cols / 40, static_cast<int>(rail_y + image.rows * 0.07)},
             cv::Scalar(60, 70, 80), std::max(1, image.rows / 60));
  }
}

Polygon opening_polygon(const Bed& bed) {
  return {cv::Point(static_cast<int>(bed.left), static_cast<int>(bed.near_rim)),
          cv::Point(static_cast<int>(bed.right), static_cast<int>(bed.near_rim)),
          cv::Point(static_cast<int>(bed.right + bed.skew), static_cast<int>(bed.far_rim())),
          cv::Point(static_cast<int>(bed.left + bed.skew), static_cast<int>(bed.far_rim()))};
}

void draw_bed_interior(cv::Mat& image, const Bed& bed, const cv::Scalar& body, NumpyRandom& random) {
  const cv::Scalar inner = scale_colour(body, random.uniform(0.45, 0.7));
  fill_polygon(image, opening_polygon(bed), inner);
  // Inner ribs of the far wall and a floor line: what an empty bed shows.
  const int ribs = 4 + static_cast<int>(random_index(random, 6));
  for (int i = 1; i < ribs; ++i) {
    const double t = static_cast<double>(i) / ribs;
    const int x = static_cast<int>(bed.left + bed.skew + t * bed.width());
    cv::line(image, {x, static_cast<int>(bed.far_rim())}, {x, static_cast<int>(bed.far_rim() + bed.depth * 0.55)},
             scale_colour(inner, 0.7), 1, cv::LINE_AA);
  }
  cv::line(image, {static_cast<int>(bed.left + bed.skew * 0.5), static_cast<int>(bed.far_rim() + bed.depth * 0.55)},
           {static_cast<int>(bed.right + bed.skew * 0.5), static_cast<int>(bed.far_rim() + bed.depth * 0.55)},
           scale_colour(inner, 0.6), 1, cv::LINE_AA);
  add_texture(image, cv::boundingRect(opening_polygon(bed)), 8.0, random);
  cv::line(image, opening_polygon(bed)[2], opening_polygon(bed)[3], scale_colour(body, 1.25),
           std::max(1, image.rows / 100), cv::LINE_AA);
}

void draw_debris(cv::Mat& image, const Bed& bed, NumpyRandom& random) {
  const int piles = 1 + static_cast<int>(random_index(random, 3));
  for (int i = 0; i < piles; ++i) {
    const double cx = random.uniform(bed.left + 0.1 * bed.width(), bed.right - 0.1 * bed.width());
    const double w = random.uniform(0.03, 0.08) * bed.width();
    const double h = random.uniform(0.1, 0.3) * bed.depth;
    cv::ellipse(image, cv::Point(static_cast<int>(cx), static_cast<int>(bed.near_rim)),
                cv::Size(static_cast<int>(w), static_cast<int>(h)), 0, 180, 360, jitter_colour({40, 45, 50}, 15, random),
                cv::FILLED, cv::LINE_AA);
  }
}

// Top profile of a heap of bulk cargo: a few smooth bumps over the bed.
std::vector<double> heap_profile(int samples, double base, double peak, NumpyRandom& random) {
  std::vector<double> heights(samples, 0.0);
  const int bumps = 1 + static_cast<int>(random_index(random, 4));
  for (int b = 0; b < bumps; ++b) {
    const double centre = random.uniform(0.1, 0.9), spread = random.uniform(0.12, 0.45);
    const double amplitude = random.uniform(0.5, 1.0);
    for (int i = 0; i < samples; ++i) {
      const double t = static_cast<double>(i) / (samples - 1);
      heights[i] = std::max(heights[i], amplitude * std::exp(-0.5 * std::pow((t - centre) / spread, 2.0)));
    }
  }
  for (auto& h : heights) h = base + peak * (0.25 + 0.75 * h) + random.uniform(-0.02, 0.02) * peak;
  return heights;
}

void draw_bulk(cv::Mat& image, const Bed& bed, bool low_fill, NumpyRandom& random) {
  static const cv::Scalar materials[] = {{25, 25, 28}, {45, 40, 38}, {70, 110, 150}, {60, 80, 130}, {120, 120, 115}};
  const cv::Scalar material = jitter_colour(materials[random_index(random, std::size(materials))], 12, random);
  const double peak = low_fill ? random.uniform(0.35, 0.8) * bed.depth : bed.depth + random.uniform(0.05, 0.6) * (bed.bottom - bed.near_rim);
  const int samples = 24;
  const auto heights = heap_profile(samples, 0.0, peak, random);
  Polygon heap;
  heap.emplace_back(static_cast<int>(bed.left), static_cast<int>(bed.near_rim));
  for (int i = 0; i < samples; ++i) {
    const double t = static_cast<double>(i) / (samples - 1);
    const double x = bed.left + bed.skew * 0.5 + t * bed.width();
    heap.emplace_back(static_cast<int>(x), static_cast<int>(bed.near_rim - heights[i]));
  }
  heap.emplace_back(static_cast<int>(bed.right), static_cast<int>(bed.near_rim));
  fill_polygon(image, heap, material);
  add_speckles(image, cv::boundingRect(heap), heap, scale_colour(material, 1.8), 0.08, random);
  add_texture(image, cv::boundingRect(heap), 10.0, random);
}

void draw_timber(cv::Mat& image, const Bed& bed, bool low_fill, NumpyRandom& random) {
  const cv::Scalar wood = jitter_colour({60, 100, 140}, 20, random);
  const double radius = std::max(2.0, random.uniform(0.1, 0.2) * (bed.bottom - bed.near_rim));
  const int rows = low_fill ? 1 : 2 + static_cast<int>(random_index(random, 3));
  for (int row = 0; row < rows; ++row) {
    const double y = bed.near_rim - radius * (1.6 * row + 0.4);
    const double x_start = bed.left + bed.skew * 0.3 + random.uniform(0, radius);
    cv::rectangle(image, cv::Rect(static_cast<int>(x_start), static_cast<int>(y - radius),
                                  static_cast<int>(bed.width() * random.uniform(0.85, 0.98)), static_cast<int>(2 * radius)),
                  wood, cv::FILLED);
    for (int k = 0; k < 3; ++k) {
      const int ly = static_cast<int>(y - radius + random.uniform(0.2, 1.8) * radius);
      cv::line(image, {static_cast<int>(x_start), ly}, {static_cast<int>(bed.right), ly}, scale_colour(wood, 0.7), 1);
    }
    for (double x = x_start; x < x_start + radius * 8; x += radius * 1.9) {
      cv::circle(image, cv::Point(static_cast<int>(x), static_cast<int>(y)), static_cast<int>(radius),
                 scale_colour(wood, 1.5), cv::FILLED, cv::LINE_AA);
      cv::circle(image, cv::Point(static_cast<int>(x), static_cast<int>(y)), std::max(1, static_cast<int>(radius * 0.5)),
                 scale_colour(wood, 1.2), 1, cv::LINE_AA);
    }
  }
  add_texture(image, cv::Rect(static_cast<int>(bed.left), static_cast<int>(bed.near_rim - radius * 2 * (rows + 1)),
                              static_cast<int>(bed.width()), static_cast<int>(radius * 2 * (rows + 1))), 8.0, random);
}

void draw_cuboid(cv::Mat& image, cv::Rect front, double top_depth, double skew, const cv::Scalar& colour,
                 int corrugation) {
  fill_polygon(image,
               {front.tl(), cv::Point(front.x + front.width, front.y),
                cv::Point(static_cast<int>(front.x + front.width + skew), static_cast<int>(front.y - top_depth)),
                cv::Point(static_cast<int>(front.x + skew), static_cast<int>(front.y - top_depth))},
               scale_colour(colour, 1.3));
  cv::rectangle(image, front, colour, cv::FILLED);
  for (int i = 1; i < corrugation; ++i) {
    const int x = front.x + front.width * i / corrugation;
    cv::line(image, {x, front.y}, {x, front.y + front.height}, scale_colour(colour, 0.75), 1);
  }
  cv::rectangle(image, front, scale_colour(colour, 0.55), 1);
}

void draw_containers(cv::Mat& image, const Bed& bed, bool low_fill, NumpyRandom& random) {
  static const cv::Scalar palette[] = {{140, 60, 20}, {30, 30, 160}, {40, 120, 40}, {20, 110, 210}, {170, 170, 170}};
  const int count = 1 + static_cast<int>(random_index(random, 2));
  const double side_height = bed.bottom - bed.near_rim;
  for (int i = 0; i < count; ++i) {
    const double width = bed.width() / count * random.uniform(0.8, 0.95);
    const double height = low_fill ? bed.depth * random.uniform(0.6, 1.0) : side_height * random.uniform(0.9, 1.6);
    const double x = bed.left + bed.width() / count * i + random.uniform(0.0, 0.05) * bed.width();
    draw_cuboid(image,
                cv::Rect(static_cast<int>(x + bed.skew * 0.5), static_cast<int>(bed.near_rim - height),
                         static_cast<int>(width), static_cast<int>(height)),
                bed.depth * 0.5, bed.skew * 0.5, jitter_colour(palette[random_index(random, std::size(palette))], 15, random),
                12 + static_cast<int>(random_index(random, 10)));
  }
}

void draw_boxes(cv::Mat& image, const Bed& bed, bool low_fill, NumpyRandom& random) {
  const int columns = 2 + static_cast<int>(random_index(random, 4));
  const double side_height = bed.bottom - bed.near_rim;
  for (int c = 0; c < columns; ++c) {
    const int stack = low_fill ? 1 : 1 + static_cast<int>(random_index(random, 3));
    const double width = bed.width() / columns * random.uniform(0.75, 0.95);
    double y = bed.near_rim;
    for (int s = 0; s < stack; ++s) {
      const double height = low_fill ? bed.depth * random.uniform(0.5, 0.9) : side_height * random.uniform(0.35, 0.7);
      const cv::Scalar colour = jitter_colour({70, 130, 175}, 25, random);
      const cv::Rect front(static_cast<int>(bed.left + bed.width() / columns * c + bed.skew * 0.5),
                           static_cast<int>(y - height), static_cast<int>(width), static_cast<int>(height));
      draw_cuboid(image, front, bed.depth * 0.3, bed.skew * 0.3, colour, 1);
      cv::line(image, {front.x + front.width / 2, front.y}, {front.x + front.width / 2, front.y + front.height},
               scale_colour(colour, 0.6), 1);
      y -= height;
    }
  }
}

void draw_near_side(cv::Mat& image, const Bed& bed, const cv::Scalar& body, bool truck, NumpyRandom& random) {
  const cv::Scalar lit = scale_colour(body, random.uniform(0.85, 1.15));
  const cv::Rect side(static_cast<int>(bed.left), static_cast<int>(bed.near_rim), static_cast<int>(bed.width()),
                      static_cast<int>(bed.bottom - bed.near_rim));
  cv::rectangle(image, side, lit, cv::FILLED);
  const int ribs = truck ? 3 : 6 + static_cast<int>(random_index(random, 6));
  for (int i = 1; i < ribs; ++i) {
    const int x = side.x + side.width * i / ribs;
    cv::line(image, {x, side.y}, {x, side.y + side.height}, scale_colour(lit, 0.7), std::max(1, image.cols / 160));
  }
  cv::line(image, side.tl(), {side.x + side.width, side.y}, scale_colour(lit, 1.35), std::max(1, image.rows / 80));
  add_stains(image, side, random);
  add_texture(image, side, 9.0, random);
  if (random.random_sample() < 0.6) {  // a painted plate, as the code crops come from
    const cv::Rect plate(side.x + static_cast<int>(side.width * random.uniform(0.1, 0.6)), side.y + side.height / 3,
                         side.width / 6, std::max(4, side.height / 4));
    cv::rectangle(image, plate, scale_colour(lit, 0.6), cv::FILLED);
    cv::putText(image, std::to_string(1000 + random_index(random, 9000)), {plate.x + 1, plate.y + plate.height - 2},
                cv::FONT_HERSHEY_PLAIN, std::max(0.4, plate.height / 14.0), cv::Scalar(220, 220, 220), 1, cv::LINE_AA);
  }
}

void draw_running_gear(cv::Mat& image, const Bed& bed, bool truck, NumpyRandom& random) {
  const double radius = std::max(3.0, (bed.bottom - bed.near_rim) * (truck ? 0.45 : 0.3));
  const cv::Scalar dark = jitter_colour({35, 35, 38}, 8, random);
  const std::vector<double> positions = truck ? std::vector<double>{0.15, 0.3, 0.8} : std::vector<double>{0.1, 0.22, 0.78, 0.9};
  cv::rectangle(image, cv::Rect(static_cast<int>(bed.left), static_cast<int>(bed.bottom), static_cast<int>(bed.width()),
                                static_cast<int>(radius * 0.5)),
                scale_colour(dark, 1.3), cv::FILLED);
  for (double t : positions) {
    const cv::Point centre(static_cast<int>(bed.left + t * bed.width()), static_cast<int>(bed.bottom + radius * 0.8));
    cv::circle(image, centre, static_cast<int>(radius), dark, cv::FILLED, cv::LINE_AA);
    cv::circle(image, centre, static_cast<int>(radius * 0.45), scale_colour(dark, 2.5), cv::FILLED, cv::LINE_AA);
  }
  if (truck) {  // the cab in front of the bed
    const double cab_width = bed.width() * random.uniform(0.18, 0.25);
    const cv::Rect cab(static_cast<int>(bed.right + 3), static_cast<int>(bed.far_rim() - bed.depth),
                       static_cast<int>(cab_width), static_cast<int>(bed.bottom - bed.far_rim() + bed.depth));
    cv::rectangle(image, cab, jitter_colour({150, 150, 150}, 60, random), cv::FILLED);
    cv::rectangle(image, cv::Rect(cab.x + cab.width / 4, cab.y + cab.height / 8, cab.width / 2, cab.height / 3),
                  cv::Scalar(90, 70, 60), cv::FILLED);
  }
}

void draw_occluder(cv::Mat& image, NumpyRandom& random) {
  const int kind = static_cast<int>(random_index(random, 3));
  const cv::Scalar colour = jitter_colour({60, 60, 65}, 20, random);
  if (kind == 0 || kind == 1) {
    const int x = static_cast<int>(random.uniform(0.05, 0.95) * image.cols);
    const int w = std::max(2, static_cast<int>(random.uniform(0.015, 0.05) * image.cols));
    cv::rectangle(image, cv::Rect(x, 0, w, image.rows), colour, cv::FILLED);
    if (kind == 1) {  // a signal head on the post
      const int y = static_cast<int>(random.uniform(0.1, 0.5) * image.rows);
      cv::rectangle(image, cv::Rect(x - w, y, 3 * w, 4 * w), scale_colour(colour, 0.6), cv::FILLED);
      cv::circle(image, {x + w / 2, y + w}, std::max(1, w / 2), random.random_sample() < 0.5 ? cv::Scalar(40, 40, 220) : cv::Scalar(60, 220, 60),
                 cv::FILLED);
    }
  } else {
    const double sag = random.uniform(0.02, 0.12) * image.rows, y0 = random.uniform(0.02, 0.4) * image.rows;
    Polygon cable;
    for (int i = 0; i <= 16; ++i) {
      const double t = i / 16.0;
      cable.emplace_back(static_cast<int>(t * image.cols), static_cast<int>(y0 + sag * 4 * t * (1 - t)));
    }
    cv::polylines(image, cable, false, cv::Scalar(20, 20, 20), std::max(1, image.rows / 120), cv::LINE_AA);
  }
}

void apply_weather(cv::Mat& image, NumpyRandom& random) {
  const int kind = static_cast<int>(random_index(random, 3));
  if (kind == 0) {  // rain streaks
    cv::Mat streaks = image.clone();
    const double slant = random.uniform(-0.3, 0.3);
    const int drops = image.cols * image.rows / 120;
    for (int i = 0; i < drops; ++i) {
      const int x = static_cast<int>(random.random_sample() * image.cols), y = static_cast<int>(random.random_sample() * image.rows);
      const int length = static_cast<int>(random.uniform(0.02, 0.06) * image.rows);
      cv::line(streaks, {x, y}, {static_cast<int>(x + slant * length), y + length}, cv::Scalar(200, 200, 200), 1);
    }
    cv::addWeighted(image, 0.7, streaks, 0.3, 0, image);
  } else if (kind == 1) {  // fog
    const double density = random.uniform(0.15, 0.5);
    cv::Mat fog(image.size(), image.type(), jitter_colour({200, 200, 200}, 15, random));
    cv::addWeighted(image, 1.0 - density, fog, density, 0, image);
  } else {  // snow
    const int flakes = image.cols * image.rows / 150;
    for (int i = 0; i < flakes; ++i) {
      cv::circle(image, {static_cast<int>(random.random_sample() * image.cols), static_cast<int>(random.random_sample() * image.rows)},
                 random.random_sample() < 0.8 ? 1 : 2, cv::Scalar(240, 240, 240), cv::FILLED);
    }
  }
}

// Viewpoint, light, optics and compression: the camera's contribution, independent of the class.
void apply_camera(cv::Mat& image, const CargoSceneOptions& options, NumpyRandom& random) {
  const double w = image.cols, h = image.rows, jitter = 0.06;
  const cv::Point2f source[] = {{0, 0}, {static_cast<float>(w), 0}, {static_cast<float>(w), static_cast<float>(h)}, {0, static_cast<float>(h)}};
  cv::Point2f target[4];
  for (int i = 0; i < 4; ++i) {
    target[i] = source[i] + cv::Point2f(static_cast<float>(random.uniform(-jitter, jitter) * w),
                                        static_cast<float>(random.uniform(-jitter, jitter) * h));
  }
  cv::warpPerspective(image, image, cv::getPerspectiveTransform(source, target), image.size(), cv::INTER_LINEAR,
                      cv::BORDER_REFLECT);
  const double gain = random.uniform(0.55, 1.35), bias = random.uniform(-20, 20);
  const cv::Scalar tint(random.uniform(0.9, 1.1), random.uniform(0.95, 1.05), random.uniform(0.9, 1.1));
  cv::Mat tinted;
  image.convertTo(tinted, CV_32FC3, gain, bias);
  cv::multiply(tinted, cv::Mat(image.size(), CV_32FC3, tint), tinted);
  if (random.random_sample() < 0.4) {  // a cast shadow across part of the frame
    const int x = static_cast<int>(random.uniform(0, 0.7) * w);
    tinted(cv::Rect(x, 0, static_cast<int>(w) - x, static_cast<int>(h))) *= random.uniform(0.55, 0.85);
  }
  tinted.convertTo(image, CV_8UC3);
  if (random.random_sample() < 0.5) {
    const double sigma = random.uniform(0.3, 1.4);
    cv::GaussianBlur(image, image, cv::Size(), sigma);
  }
  add_texture(image, cv::Rect(0, 0, image.cols, image.rows), random.uniform(0, 7), random);
  const int quality = options.jpeg_quality_min +
                      static_cast<int>(random_index(random, static_cast<std::size_t>(options.jpeg_quality_max - options.jpeg_quality_min + 1)));
  std::vector<unsigned char> encoded;
  cv::imencode(".jpg", image, encoded, {cv::IMWRITE_JPEG_QUALITY, quality});
  image = cv::imdecode(encoded, cv::IMREAD_COLOR);
}

}  // namespace

cv::Mat render_cargo_scene(bool loaded, const CargoSceneOptions& options, NumpyRandom& random) {
  require(options.width >= 32 && options.height >= 32, "cargo scene size must be at least 32x32, got {}x{}",
                    options.width, options.height);
  require(options.jpeg_quality_min >= 1 && options.jpeg_quality_min <= options.jpeg_quality_max &&
                        options.jpeg_quality_max <= 100,
                    "JPEG quality range must satisfy 1 <= min <= max <= 100, got {}..{}", options.jpeg_quality_min,
                    options.jpeg_quality_max);
  cv::Mat image(options.height, options.width, CV_8UC3);
  const double w = options.width, h = options.height;
  const double horizon = random.uniform(0.25, 0.45) * h;
  draw_background(image, horizon, random);
  const double rail_y = random.uniform(0.82, 0.92) * h;
  draw_rails(image, rail_y, random);

  const bool truck = random.random_sample() < options.truck_probability;
  Bed bed;
  bed.left = random.uniform(-0.15, 0.12) * w;
  bed.right = random.uniform(truck ? 0.7 : 0.88, truck ? 0.8 : 1.15) * w;
  const double side_height = random.uniform(0.2, 0.32) * h;
  bed.bottom = rail_y - side_height * (truck ? 0.6 : 0.45);
  bed.near_rim = bed.bottom - side_height;
  bed.depth = random.uniform(0.05, 0.16) * h;
  bed.skew = random.uniform(-0.04, 0.04) * w;

  const cv::Scalar body = body_colour(random);
  draw_bed_interior(image, bed, body, random);
  if (loaded) {
    const bool low_fill = random.random_sample() < options.low_fill_probability;
    switch (random_index(random, 4)) {
      case 0: draw_bulk(image, bed, low_fill, random); break;
      case 1: draw_timber(image, bed, low_fill, random); break;
      case 2: draw_containers(image, bed, low_fill, random); break;
      default: draw_boxes(image, bed, low_fill, random); break;
    }
  } else if (random.random_sample() < options.debris_probability) {
    draw_debris(image, bed, random);
  }
  draw_near_side(image, bed, body, truck, random);
  draw_running_gear(image, bed, truck, random);
  if (random.random_sample() < options.occluder_probability) draw_occluder(image, random);
  if (random.random_sample() < options.weather_probability) apply_weather(image, random);
  apply_camera(image, options, random);
  return image;
}

CargoDatasetSummary generate_cargo_dataset(const CargoDatasetOptions& options) {
  require(options.train_count >= 2 && options.test_count >= 0,
                    "need at least 2 training images and a non-negative test count, got {} and {}", options.train_count,
                    options.test_count);
  require(options.empty_per_loaded > 0, "--ratio (empty per loaded) must be positive, got {}",
                    options.empty_per_loaded);
  namespace fs = std::filesystem;
  const double loaded_share = 1.0 / (1.0 + options.empty_per_loaded);
  CargoDatasetSummary summary;
  NumpyRandom random(options.seed);
  ProgressLine progress("synth_cargo", options.train_count + options.test_count, "img");
  for (const char* split : {"train", "test"}) {
    const bool training = std::string(split) == "train";
    const int count = training ? options.train_count : options.test_count;
    const int loaded_count = std::clamp(static_cast<int>(std::lround(count * loaded_share)), count > 1 ? 1 : 0, count > 1 ? count - 1 : count);
    int& empty_written = training ? summary.train_empty : summary.test_empty;
    int& loaded_written = training ? summary.train_loaded : summary.test_loaded;
    for (const char* label : {"0", "1"}) fs::create_directories(fs::path(options.output_dir) / split / label);
    for (int i = 0; i < count; ++i) {
      // Interleave the classes so that a prefix of the stream is as balanced as the whole.
      const bool loaded = (i * loaded_count) / count != ((i + 1) * loaded_count) / count;
      const cv::Mat image = render_cargo_scene(loaded, options.scene, random);
      int& index = loaded ? loaded_written : empty_written;
      ++index;
      const fs::path file = fs::path(options.output_dir) / split / (loaded ? "1" : "0") /
                            fmt::format("{}_V{}.jpg", loaded ? "loaded" : "empty", index);
      std::vector<unsigned char> bytes;
      cv::imencode(".jpg", image, bytes, {cv::IMWRITE_JPEG_QUALITY, options.jpeg_quality});
      write_file_atomically(file, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
      progress.advance();
    }
  }
  progress.finish();
  return summary;
}

}  // namespace cargovision
