#pragma once
// Synthetic crops of wagon and container codes for the recognizer, in the seed's formats, written in
// the seed's layout (OUT/{training,validation}/{01,02,03}/ with one gt.txt per folder).

#include <cstdint>
#include <string>
#include <vector>

namespace cv {
class Mat;
}

namespace cargovision {

class NumpyRandom;

// The code formats of the seed's data.
enum class CodeFormat {
  kFourDigits,            // 3801
  kWagonLong,             // 983S11B41: 3 digits, letter, 2 digits, letter, 2 digits
  kWagonShort,            // 8093T42B: 4 digits, letter, 2 digits, letter
  kLetterDigitsLetters,   // C1051BAA: letter, 4 digits, 3 letters
  kTwoLettersSixDigits,   // FB875209
  kIso6346,               // container number: owner code + U/J/Z, 6 digits, check digit (MSCU1234565)
};

std::string random_code(CodeFormat format, NumpyRandom& random);
// The ISO 6346 check digit of the first 10 characters (owner, category, serial).
int iso6346_check_digit(const std::string& first_ten);

struct CodeCropOptions {
  int height = 48;                 // crop height; width follows the text
  std::vector<std::string> fonts;  // TrueType files; empty = the Debian fonts found, else Hershey fonts
  double rotation_degrees = 4.0;   // maximum in-plane rotation
  double perspective = 0.08;       // maximum corner jitter (fraction of the size)
  double blur_probability = 0.4;
  double stain_probability = 0.5;
  double low_contrast_probability = 0.25;
  double loose_crop_probability = 0.4;  // extra background around the text
  double stencil_probability = 0.3;     // stencil-plate gaps through the glyphs
  int jpeg_quality_min = 30;
  int jpeg_quality_max = 95;
};

cv::Mat render_code_crop(const std::string& text, const CodeCropOptions& options, NumpyRandom& random);

struct CodeDatasetOptions {
  CodeCropOptions crop;
  std::string output_dir = "synthetic_codes";
  int training_per_folder = 200;
  int validation_per_folder = 40;
  std::uint32_t seed = 11;
};

// 01: wagon codes (983S11B41, 8093T42B, 3801), 02: container codes (ISO 6346, FB875209, C1051BAA),
// 03: short numbers (3801); each folder gets images and a gt.txt in create_lmdb's format.
void generate_code_dataset(const CodeDatasetOptions& options);

// TrueType fonts from Debian font packages that are installed (DejaVu, Liberation, ...).
std::vector<std::string> find_system_fonts();

}  // namespace cargovision
