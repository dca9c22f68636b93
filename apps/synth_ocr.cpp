// synth_ocr: generates wagon/container code crops in the seed's layout for create_lmdb and train_ocr.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "cargovision/core/app.h"
#include "cargovision/core/logging.h"
#include "cargovision/ocr/create_lmdb.h"
#include "cargovision/synth/code_crop.h"

int main(int argc, char** argv) {
  return cargovision::run_guarded([&] {
    cargovision::CodeDatasetOptions options;
    auto& crop = options.crop;
    std::string log_level = "info";
    std::string lmdb_output;
    CLI::App app{"Generate code crops (983S11B41, 8093T42B, C1051BAA, FB875209, 3801, ISO 6346 container numbers) in "
                 "OUT/{training,validation}/{01,02,03}/ with a gt.txt per folder (create_lmdb's format). 01 = wagon codes, "
                 "02 = container codes, 03 = 4-digit numbers."};
    app.get_formatter()->column_width(40);
    app.add_option("--output,-o", options.output_dir, "Output root")->capture_default_str();
    app.add_option("--training", options.training_per_folder, "Training crops per folder")->capture_default_str();
    app.add_option("--validation", options.validation_per_folder, "Validation crops per folder")->capture_default_str();
    app.add_option("--seed", options.seed, "Random seed; the same seed gives the same files")->capture_default_str();
    app.add_option("--height", crop.height, "Fixed crop height in pixels; 0 = random in [--min-height, --max-height] (width follows the text)")
        ->capture_default_str();
    app.add_option("--min-height", crop.min_height, "Smallest crop height")->capture_default_str();
    app.add_option("--max-height", crop.max_height, "Largest crop height")->capture_default_str();
    app.add_option("--font", crop.fonts, "TrueType font file(s); default: the Debian fonts installed");
    app.add_option("--rotation", crop.rotation_degrees, "Maximum rotation in degrees")->capture_default_str();
    app.add_option("--perspective", crop.perspective, "Maximum corner jitter (fraction of the height)")->capture_default_str();
    app.add_option("--blur-probability", crop.blur_probability, "Share of blurred crops")->capture_default_str();
    app.add_option("--stain-probability", crop.stain_probability, "Share with rust/dirt stains")->capture_default_str();
    app.add_option("--low-contrast-probability", crop.low_contrast_probability, "Share with faded paint")->capture_default_str();
    app.add_option("--loose-crop-probability", crop.loose_crop_probability, "Share with wide margins")->capture_default_str();
    app.add_option("--stencil-probability", crop.stencil_probability, "Share of stencilled codes")->capture_default_str();
    app.add_option("--peel-probability", crop.peel_probability, "Share with flaked paint")->capture_default_str();
    app.add_option("--shadow-probability", crop.shadow_probability, "Share with a cast shadow")->capture_default_str();
    app.add_option("--glare-probability", crop.glare_probability, "Share with a glare spot")->capture_default_str();
    app.add_option("--neighbour-probability", crop.neighbour_probability, "Share with other marks cut by the frame")
        ->capture_default_str();
    app.add_option("--condensed-probability", crop.condensed_probability, "Share with squeezed glyphs")->capture_default_str();
    app.add_option("--low-resolution-probability", crop.low_resolution_probability, "Share rendered small and enlarged")
        ->capture_default_str();
    app.add_option("--difficulty", crop.difficulty, "Scales every degradation: 0 = clean, 1 = the rates above")
        ->capture_default_str();
    app.add_flag("--masks", options.write_masks,
                 "Also write <name>_mask.png beside each crop: the code's paint (255), neighbouring marks left out");
    app.add_option("--min-contrast", crop.min_text_contrast,
                   "Grey levels every part of a code must stand out by; a crop below is drawn again, milder (0 = keep all)")
        ->capture_default_str();
    app.add_option("--min-contrast-to-noise", crop.min_contrast_to_noise,
                   "Times the wall's own grey-level spread every part of a code must stand out by (0 = no such check)")
        ->capture_default_str();
    app.add_option("--min-shape-fidelity", crop.min_shape_fidelity,
                   "Correlation with the paint's shapes every part of a code must keep at --legibility-height (0 = no such check)")
        ->capture_default_str();
    app.add_option("--legibility-height", crop.legibility_height,
                   "Height in pixels a code's legibility is judged at (a recognizer's --imgH)")
        ->capture_default_str();
    app.add_option("--min-line-height", crop.min_line_height,
                   "Pixels per text line a drawn crop height gives at least (within --max-height)")
        ->capture_default_str();
    app.add_option("--jpeg-quality-min", crop.jpeg_quality_min, "Lowest JPEG quality")->capture_default_str();
    app.add_option("--jpeg-quality-max", crop.jpeg_quality_max, "Highest JPEG quality")->capture_default_str();
    app.add_option("--lmdb", lmdb_output,
                   "Also run create_lmdb: LMDB/{training,validation}/{01,02,03} for train_ocr (--train_data LMDB/training)");
    app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    cargovision::setup_logging(log_level, "");
    if (crop.fonts.empty() && cargovision::find_system_fonts().empty()) {
      spdlog::warn("no TrueType fonts found (scripts/setup.sh installs them); using OpenCV's Hershey font");
    }
    cargovision::generate_code_dataset(options);
    spdlog::info("wrote {}", options.output_dir);
    if (!lmdb_output.empty()) {
      for (const char* split : {"training", "validation"}) {
        if (std::string(split) == "validation" && options.validation_per_folder == 0) continue;
        cargovision::ocr::CreateLmdbOptions lmdb;
        lmdb.inputPath = options.output_dir + "/" + split;
        lmdb.outputPath = lmdb_output + "/" + split;
        cargovision::ocr::create_lmdb(lmdb);
      }
      spdlog::info("wrote LMDBs under {}", lmdb_output);
    }
    return 0;
  });
}
