#pragma once
// Synthetic gate-camera images of open freight wagons and truck beds, empty (class 0) or loaded
// (class 1). Both classes share one scene family (vehicle, viewpoint, light, weather, occluders,
// compression); the only systematic difference is the cargo in the bed, so a classifier has to look
// at the bed rather than at a shortcut.

#include <cstdint>
#include <string>

namespace cv {
class Mat;
}

namespace cargovision {

class NumpyRandom;

struct CargoSceneOptions {
  int width = 256;
  int height = 192;
  double truck_probability = 0.3;     // otherwise an open rail wagon
  double occluder_probability = 0.35; // a pole, signal post or cable in front of the vehicle
  double weather_probability = 0.4;   // rain, fog or snow
  double low_fill_probability = 0.25; // loaded beds whose cargo barely shows above the rim
  double debris_probability = 0.3;    // empty beds with a little residue on the floor
  int jpeg_quality_min = 35;          // each image is re-encoded at a quality drawn in [min, max]
  int jpeg_quality_max = 95;
};

// Renders one BGR image; deterministic for the generator's state.
cv::Mat render_cargo_scene(bool loaded, const CargoSceneOptions& options, NumpyRandom& random);

struct CargoDatasetOptions {
  CargoSceneOptions scene;
  std::string output_dir = "synthetic_cargo";
  int train_count = 160;     // images in train/, both classes together
  int test_count = 48;       // images in test/
  double empty_per_loaded = 5.0 / 3.0;  // the seed's 5:3 imbalance (empty : loaded)
  std::uint32_t seed = 7;
  int jpeg_quality = 92;     // the final file's quality (the scene itself is already compressed)
};

struct CargoDatasetSummary {
  int train_empty = 0, train_loaded = 0, test_empty = 0, test_loaded = 0;
};

// Writes OUT/train/{0,1}/ and OUT/test/{0,1}/ with files named like the seed's
// (empty_V1.jpg, loaded_V1.jpg, ...).
CargoDatasetSummary generate_cargo_dataset(const CargoDatasetOptions& options);

}  // namespace cargovision
