#pragma once
// Painting helpers shared by the synthetic-data generators: colours, gradients, textures, stains.
// All randomness comes from the caller's NumpyRandom, so output is reproducible for a seed.

#include <cstddef>
#include <opencv2/core.hpp>
#include <vector>

#include "cargovision/data/numpy_random.h"

namespace cargovision {

inline std::size_t random_index(NumpyRandom& random, std::size_t count) {
  return std::min(count - 1, static_cast<std::size_t>(random.random_sample() * static_cast<double>(count)));
}

cv::Scalar jitter_colour(const cv::Scalar& base, double spread, NumpyRandom& random);
cv::Scalar scale_colour(const cv::Scalar& colour, double factor);

void fill_vertical_gradient(cv::Mat& image, cv::Rect area, const cv::Scalar& top, const cv::Scalar& bottom);
void fill_polygon(cv::Mat& image, const std::vector<cv::Point>& polygon, const cv::Scalar& colour);

// Adds zero-mean Gaussian grain of the given standard deviation (grey levels) inside the area.
void add_texture(cv::Mat& image, cv::Rect area, double sigma, NumpyRandom& random);
// Scatters single-pixel highlights of the colour over the polygon's inside (fraction of its pixels).
void add_speckles(cv::Mat& image, cv::Rect area, const std::vector<cv::Point>& polygon, const cv::Scalar& colour,
                  double fraction, NumpyRandom& random);
// Rust and dirt: soft brown-orange blotches and streaks running down, blended into the area.
void add_stains(cv::Mat& image, cv::Rect area, NumpyRandom& random);

}  // namespace cargovision
