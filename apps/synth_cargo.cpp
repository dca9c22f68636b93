// synth_cargo: generates empty/loaded freight-wagon scenes in the classifier's folder layout.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "cargovision/core/app.h"
#include "cargovision/core/logging.h"
#include "cargovision/synth/cargo_scene.h"

int main(int argc, char** argv) {
  return cargovision::run_guarded([&] {
    cargovision::CargoDatasetOptions options;
    auto& scene = options.scene;
    std::string log_level = "info";
    CLI::App app{"Generate synthetic gate-camera images of open freight wagons and truck beds: class 0 (empty) and "
                 "1 (loaded) in OUT/train/{0,1}/ and OUT/test/{0,1}/, named empty_V<n>.jpg / loaded_V<n>.jpg."};
    app.get_formatter()->column_width(40);
    app.add_option("--output,-o", options.output_dir, "Output root")->capture_default_str();
    app.add_option("--train", options.train_count, "Training images (both classes)")->capture_default_str();
    app.add_option("--test", options.test_count, "Test images (both classes)")->capture_default_str();
    app.add_option("--ratio", options.empty_per_loaded, "Empty images per loaded image (the seed had 5:3)")
        ->capture_default_str();
    app.add_option("--seed", options.seed, "Random seed; the same seed gives the same files")->capture_default_str();
    app.add_option("--width", scene.width, "Image width")->capture_default_str();
    app.add_option("--height", scene.height, "Image height")->capture_default_str();
    app.add_option("--truck-probability", scene.truck_probability, "Share of truck beds (else rail wagons)")
        ->capture_default_str();
    app.add_option("--occluder-probability", scene.occluder_probability, "Share with a pole, signal or cable in front")
        ->capture_default_str();
    app.add_option("--weather-probability", scene.weather_probability, "Share with rain, fog or snow")
        ->capture_default_str();
    app.add_option("--low-fill-probability", scene.low_fill_probability,
                   "Share of loaded beds whose cargo barely shows above the rim")->capture_default_str();
    app.add_option("--debris-probability", scene.debris_probability, "Share of empty beds with residue on the floor")
        ->capture_default_str();
    app.add_option("--jpeg-quality-min", scene.jpeg_quality_min, "Lowest simulated camera JPEG quality")
        ->capture_default_str();
    app.add_option("--jpeg-quality-max", scene.jpeg_quality_max, "Highest simulated camera JPEG quality")
        ->capture_default_str();
    app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    cargovision::setup_logging(log_level, "");
    const auto summary = cargovision::generate_cargo_dataset(options);
    spdlog::info("wrote {}: train {} empty + {} loaded, test {} empty + {} loaded", options.output_dir,
                 summary.train_empty, summary.train_loaded, summary.test_empty, summary.test_loaded);
    return 0;
  });
}
