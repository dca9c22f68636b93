#pragma once
// create_lmdb: an image folder plus a gt file -> an LMDB in the original create_lmdb_dataset.py format
// (image-%09d = the file's bytes, label-%09d = UTF-8 label, num-samples), so either tool reads the other's.

#include <cstddef>
#include <string>
#include <vector>

namespace cargovision::ocr {

struct GtEntry {
  std::size_t line = 0;   // 1-based line in the gt file
  std::string image_path; // as written, relative to the input folder
  std::string label;      // UTF-8, may contain spaces
};

// One sample a line, `path<TAB>label`, split at the first tab; blank lines are ignored, a trailing
// '\r' is dropped. Throws Error "<file>:<line>: ..." for a line without a tab, an empty path or
// invalid UTF-8, before anything is written.
std::vector<GtEntry> read_gt_file(const std::string& gt_file);

struct CreateLmdbOptions {
  std::string inputPath;
  std::string gtFile;            // a file; or, in the seed's layout, the gt file name inside each sub-folder
  std::string outputPath;
  bool checkValid = true;        // decode each image and require a non-zero size
  std::size_t commit_every = 1000;
};

struct CreateLmdbSummary {
  std::string output_path;
  std::size_t written = 0;
  std::size_t skipped = 0;
};

// Writes one LMDB from inputPath + gtFile. Samples whose image is missing or invalid are reported
// with their gt line and skipped. The LMDB is built beside the target and moved into place when
// complete, with num-samples in the final commit, so an interrupted run never leaves a dataset that
// claims more samples than it holds, and never damages an existing one.
CreateLmdbSummary create_lmdb_dataset(const std::string& input_path, const std::string& gt_file,
                                      const std::string& output_path, bool check_valid,
                                      std::size_t commit_every = 1000);

// The app's entry: a single dataset when gtFile names a file; otherwise the seed's layout, where
// every sub-folder of inputPath (e.g. 01 02 03) holds its own gt file (gtFile's name, default
// gt.txt, or the folder's only .txt file) and becomes outputPath/<sub-folder>.
std::vector<CreateLmdbSummary> create_lmdb(const CreateLmdbOptions& options);

}  // namespace cargovision::ocr
