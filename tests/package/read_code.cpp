// read_code IMAGE [MODEL_STEM]: reads the code on one crop with the shipped recognizer (or the
// packaged model MODEL_STEM.pth + MODEL_STEM.json) and prints "text<TAB>confidence".
#include <cargovision/core/error.h>
#include <cargovision/ocr/code_recognizer.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s IMAGE [MODEL_STEM]\n", argv[0]);
    return 2;
  }
  try {
    const std::string model = argc == 3 ? argv[2] : std::string(CARGOVISION_MODELS_DIR) + "/codes_recognizer";
    const auto recognizer = cargovision::ocr::CodeRecognizer::from_package(model);
    const auto reading = recognizer.read_file(argv[1]);
    std::printf("%s\t%.4f\n", reading.text.c_str(), reading.confidence);
    return 0;
  } catch (const cargovision::Error& e) {
    std::fprintf(stderr, "read_code: %s\n", e.what());
    return 1;
  }
}
