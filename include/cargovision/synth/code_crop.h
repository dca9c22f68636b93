#pragma once
// Synthetic crops of wagon and container codes as a camera sees them in a yard: paint on corrugated
// walls, stencil and condensed faces, codes split into groups and lines with a boxed check digit,
// rust, dirt, peeling paint, shadows, glare, blur, low resolution, JPEG, tight and loose crops with
// other marks cut by the frame. Everything is drawn from the caller's NumpyRandom, so a seed gives
// the same crop on every run. Also writes datasets in the seed's layout (OUT/{training,validation}/
// {01,02,03}/ with one gt.txt per folder).

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "cargovision/synth/code_text.h"
#include "cargovision/synth/font_catalog.h"

namespace cargovision {

class NumpyRandom;

struct CodeCropOptions {
  int height = 0;                  // fixed crop height; 0 = drawn from [min_height, max_height]
  int min_height = 20;
  int max_height = 64;
  std::vector<std::string> fonts;  // TrueType/OpenType files; empty = find_system_fonts(), else Hershey
  double rotation_degrees = 5.0;   // maximum in-plane rotation
  double perspective = 0.08;       // maximum corner jitter (fraction of the height)
  double blur_probability = 0.5;   // motion, defocus or Gaussian blur
  double stain_probability = 0.5;  // rust and dirt
  double peel_probability = 0.25;  // paint flaked off the glyphs
  double shadow_probability = 0.3;
  double glare_probability = 0.2;
  double low_contrast_probability = 0.15;  // faded paint close to the wall's colour
  double loose_crop_probability = 0.4;     // wide margins
  double neighbour_probability = 0.35;     // other marks and edges cut by the frame
  double stencil_probability = 0.25;       // stencil-plate bridges through the glyphs
  double condensed_probability = 0.3;      // glyphs squeezed horizontally
  double low_resolution_probability = 0.3; // rendered small, then enlarged (blocky)
  int jpeg_quality_min = 20;
  int jpeg_quality_max = 95;
  // Scales every degradation above: 0 = clean paint on a plain wall, square to the camera; 1 = the
  // rates above. A training curriculum raises it from low to 1 (SyntheticCodeSource).
  double difficulty = 1.0;
  // Legibility: in every part of the code (one slice per character along it), its paint must differ
  // from the wall right around it by at least min_text_contrast grey levels (medians) in the finished
  // crop, and by at least min_contrast_to_noise times the wall's grey-level spread at the scale of
  // strokes (texture, grain, stains, JPEG), and its strokes must survive the crop's resolution; seen
  // at legibility_height pixels (a recognizer's input height), the shapes of its strokes must still be
  // there: correlated by at least min_shape_fidelity with the paint's own shapes. Degradations that
  // stack up (faded paint in a shadow under glare, blurred and shrunk, hairline strokes in a small crop,
  // a small code in a loose crop) can erase a code; such a crop is drawn again with milder degradations,
  // so that every label can be read from its image. 0 for all three accepts every crop.
  double min_text_contrast = 12.0;
  double min_contrast_to_noise = 1.25;
  double min_shape_fidelity = 0.65;
  int legibility_height = 32;
  // A drawn crop height (height == 0) is at least what gives each text line this many pixels, within
  // max_height: a code on three lines is photographed taller than one on a single line.
  int min_line_height = 10;
};

// How well the code's paint (`code_mask`, 255 = paint, the crop's size) stands out in `crop`.
struct CodeLegibility {
  // The weakest of `slices` slices along the code: |median paint - median wall|, in grey levels;
  // 0 where strokes are too thin for the resolution to keep any solid paint, or nothing is measurable.
  double contrast = 0.0;
  // The wall's spread at the scale of strokes (grain, texture, stains, JPEG; not the shading across
  // it): 1.4826 x median absolute deviation from its local level, grey levels.
  double wall_noise = 0.0;
  double contrast_to_noise = 0.0;  // contrast / wall_noise (a flat wall counts as one grey level)
  // The weakest slice's correlation, at `reader_height` pixels and at the scale of strokes (shading
  // across the crop left out), between the crop's grey levels and the paint's coverage: 1 = every
  // stroke's shape is there, 0 = nothing of it (blurred into blobs, pixelated, drowned in texture).
  // Dark paint on a light wall counts like light on dark.
  double shape_fidelity = 0.0;
};
// `glyph_mask`: the glyphs as painted before wear, if the code's paint has lost flakes: the shapes are
// judged against it (a flaked-off stroke is a lost stroke: a 9 that lost its loop is not a 9 to a reader),
// contrast against the paint that is there.
CodeLegibility measure_code_legibility(const cv::Mat& crop, const cv::Mat& code_mask, int slices,
                                       int reader_height = 32, const cv::Mat& glyph_mask = cv::Mat());
bool is_legible(const CodeLegibility& legibility, const CodeCropOptions& options);

// What the legibility check did for one crop.
struct LegibilityReport {
  int draws = 0;              // 1 when the first draw was legible
  CodeLegibility legibility;  // of the returned crop
  cv::Mat code_mask;          // the code's paint on the crop's pixels (8-bit, 255 = paint)
};

// Renders the layout (groups, lines, boxes) into a BGR crop; its label is layout.label.
cv::Mat render_code_crop(const CodeLayout& layout, const CodeCropOptions& options, NumpyRandom& random,
                         LegibilityReport* report = nullptr);
// One group on one line.
cv::Mat render_code_crop(const std::string& text, const CodeCropOptions& options, NumpyRandom& random);

struct CodeSample {
  std::string label;
  cv::Mat image;  // BGR
};

// A random format (random_format's shares), code, layout and crop.
CodeSample random_code_sample(const CodeCropOptions& options, NumpyRandom& random);

struct CodeDatasetOptions {
  CodeCropOptions crop;
  std::string output_dir = "synthetic_codes";
  int training_per_folder = 200;
  int validation_per_folder = 40;
  std::uint32_t seed = 11;
  bool write_masks = false;  // also <name>_mask.png: the code's paint, neighbouring marks left out
};

// 01: wagon codes (983S11B41, 8093T42B, 3801), 02: container codes (ISO 6346, FB875209, C1051BAA, 22G1),
// 03: short numbers (3801); each folder gets images and a gt.txt in create_lmdb's format.
void generate_code_dataset(const CodeDatasetOptions& options);

}  // namespace cargovision
