// create_lmdb: builds LMDB datasets for the recognizer, as the original create_lmdb_dataset.py.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "cargovision/core/app.h"
#include "cargovision/core/interrupt.h"
#include "cargovision/core/logging.h"
#include "cargovision/ocr/create_lmdb.h"

int main(int argc, char** argv) {
  return cargovision::run_guarded([&] {
    cargovision::ocr::CreateLmdbOptions options;
    std::string log_level = "info";
    CLI::App app{"Create an LMDB dataset for train_ocr/demo_ocr from an image folder and a gt file "
                 "(one 'relative/image/path<TAB>label' a line, UTF-8). Keys image-%09d, label-%09d, num-samples, "
                 "as the original create_lmdb_dataset.py. With the seed's layout (--inputPath holding sub-folders "
                 "01 02 03, each with its own gt file) one LMDB is written per sub-folder under --outputPath."};
    app.get_formatter()->column_width(34);
    app.add_option("--inputPath", options.inputPath, "Folder the gt file's image paths are relative to")->required();
    app.add_option("--gtFile", options.gtFile,
                   "gt file; in the seed's layout the gt file's name inside each sub-folder (default gt.txt or the "
                   "sub-folder's only .txt)");
    app.add_option("--outputPath", options.outputPath, "Output LMDB folder (a folder of LMDBs in the seed's layout)")
        ->required();
    app.add_option("--checkValid", options.checkValid, "Decode every image and skip invalid ones (true/false)")
        ->capture_default_str();
    app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    cargovision::setup_logging(log_level, "");
    cargovision::install_interrupt_handler();
    std::size_t written = 0, skipped = 0;
    for (const auto& summary : cargovision::ocr::create_lmdb(options)) {
      written += summary.written;
      skipped += summary.skipped;
    }
    spdlog::info("done: {} sample(s) written, {} skipped", written, skipped);
    return 0;
  });
}
