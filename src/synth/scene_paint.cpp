#include "cargovision/synth/scene_paint.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

namespace cargovision {

cv::Scalar jitter_colour(const cv::Scalar& base, double spread, NumpyRandom& random) {
  cv::Scalar colour;
  for (int c = 0; c < 3; ++c) colour[c] = std::clamp(base[c] + random.uniform(-spread, spread), 0.0, 255.0);
  return colour;
}

cv::Scalar scale_colour(const cv::Scalar& colour, double factor) {
  cv::Scalar scaled;
  for (int c = 0; c < 3; ++c) scaled[c] = std::clamp(colour[c] * factor, 0.0, 255.0);
  return scaled;
}

void fill_vertical_gradient(cv::Mat& image, cv::Rect area, const cv::Scalar& top, const cv::Scalar& bottom) {
  area &= cv::Rect(0, 0, image.cols, image.rows);
  for (int y = area.y; y < area.y + area.height; ++y) {
    const double t = area.height > 1 ? static_cast<double>(y - area.y) / (area.height - 1) : 0.0;
    cv::line(image, {area.x, y}, {area.x + area.width - 1, y}, top * (1.0 - t) + bottom * t);
  }
}

void fill_polygon(cv::Mat& image, const std::vector<cv::Point>& polygon, const cv::Scalar& colour) {
  cv::fillPoly(image, std::vector<std::vector<cv::Point>>{polygon}, colour, cv::LINE_AA);
}

void add_texture(cv::Mat& image, cv::Rect area, double sigma, NumpyRandom& random) {
  area &= cv::Rect(0, 0, image.cols, image.rows);
  if (area.empty() || sigma <= 0) return;
  cv::RNG rng(random.engine()());
  cv::Mat noise(area.size(), CV_16SC(image.channels()));
  rng.fill(noise, cv::RNG::NORMAL, 0, sigma);
  cv::Mat roi = image(area), sum;
  cv::add(roi, noise, sum, cv::noArray(), image.type());
  sum.copyTo(roi);
}

void add_speckles(cv::Mat& image, cv::Rect area, const std::vector<cv::Point>& polygon, const cv::Scalar& colour,
                  double fraction, NumpyRandom& random) {
  area &= cv::Rect(0, 0, image.cols, image.rows);
  const int count = static_cast<int>(area.area() * fraction);
  for (int i = 0; i < count; ++i) {
    const cv::Point p(area.x + static_cast<int>(random.random_sample() * area.width),
                      area.y + static_cast<int>(random.random_sample() * area.height));
    if (cv::pointPolygonTest(polygon, p, false) >= 0) image.at<cv::Vec3b>(p) = cv::Vec3b(
        static_cast<uchar>(colour[0]), static_cast<uchar>(colour[1]), static_cast<uchar>(colour[2]));
  }
}

void add_stains(cv::Mat& image, cv::Rect area, NumpyRandom& random) {
  area &= cv::Rect(0, 0, image.cols, image.rows);
  if (area.width < 4 || area.height < 4) return;
  cv::Mat mask = cv::Mat::zeros(area.size(), CV_8U);
  const int blotches = 1 + static_cast<int>(random_index(random, 5));
  for (int i = 0; i < blotches; ++i) {
    const cv::Point centre(static_cast<int>(random.random_sample() * area.width),
                           static_cast<int>(random.random_sample() * area.height));
    const cv::Size axes(std::max(1, static_cast<int>(random.uniform(0.03, 0.2) * area.width)),
                        std::max(1, static_cast<int>(random.uniform(0.05, 0.4) * area.height)));
    cv::ellipse(mask, centre, axes, random.uniform(0, 180), 0, 360, cv::Scalar(255), cv::FILLED);
    // Streaks run down from the blotch, as rust does in the rain.
    for (int s = 0; s < 3; ++s) {
      const int x = centre.x + static_cast<int>(random.uniform(-1, 1) * axes.width);
      cv::line(mask, {x, centre.y}, {x, centre.y + static_cast<int>(random.uniform(0.2, 0.8) * area.height)},
               cv::Scalar(160), std::max(1, area.width / 120));
    }
  }
  const int kernel = std::max(3, (std::min(area.width, area.height) / 10) | 1);
  cv::GaussianBlur(mask, mask, cv::Size(kernel, kernel), 0);
  const cv::Scalar rust = jitter_colour({30, 70, 120}, 25, random);
  const double strength = random.uniform(0.25, 0.7);
  cv::Mat roi = image(area);
  for (int y = 0; y < area.height; ++y) {
    for (int x = 0; x < area.width; ++x) {
      const double a = strength * mask.at<uchar>(y, x) / 255.0;
      auto& pixel = roi.at<cv::Vec3b>(y, x);
      for (int c = 0; c < 3; ++c) pixel[c] = cv::saturate_cast<uchar>(pixel[c] * (1 - a) + rust[c] * a);
    }
  }
}

}  // namespace cargovision
