// libFuzzer target for the .pth reader (zip archive, safe pickle, storage/tensor checks): any input must
// either parse or throw cargovision::Error; a crash, a sanitizer report or a leak is a bug.
// Built by -DCARGOVISION_FUZZ=ON with clang; run by scripts/fuzz.sh on the corpus in tests/fuzz/corpus.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cargovision/core/error.h"
#include "cargovision/io/pth_format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const auto parsed = cargovision::parse_pth(bytes, "fuzz");
    // Touch what a caller would read, so out-of-range views show up under AddressSanitizer.
    std::size_t checksum = 0;
    for (const auto& [key, storage] : parsed.storages) {
      for (char c : storage.bytes) checksum += static_cast<unsigned char>(c);
    }
    return checksum == 0xFFFFFFFF ? 1 : 0;
  } catch (const cargovision::Error&) {
    return 0;
  }
}
