#include "cargovision/io/checkpoint_sidecar.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>

#include "cargovision/core/error.h"
#include "cargovision/io/json_file.h"

namespace cargovision {
namespace fs = std::filesystem;

std::string file_fingerprint(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  require(static_cast<bool>(file), "{}: cannot open to fingerprint", path);
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  std::uint64_t size = 0;
  std::array<char, 1 << 16> buffer{};
  while (file) {
    file.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto count = static_cast<std::size_t>(file.gcount());
    for (std::size_t i = 0; i < count; ++i) {
      hash ^= static_cast<unsigned char>(buffer[i]);
      hash *= 0x100000001b3ULL;
    }
    size += count;
  }
  return fmt::format("fnv1a64:{:016x}:{}", hash, size);
}

void write_checkpoint_sidecar(const std::string& sidecar_path, nlohmann::json sidecar, const std::string& weights_path,
                              const std::vector<std::string>& companions) {
  nlohmann::json fingerprints{{"weights", file_fingerprint(weights_path)}};
  for (const auto& file : companions) {
    require(file.size() > weights_path.size() && file.compare(0, weights_path.size(), weights_path) == 0,
            "{}: a checkpoint's companion file must be named after its weights ({}...)", file, weights_path);
    fingerprints[file.substr(weights_path.size())] = file_fingerprint(file);
  }
  sidecar["fingerprints"] = fingerprints;
  write_json_file(sidecar_path, sidecar);
}

nlohmann::json read_checkpoint_sidecar(const std::string& sidecar_path, const std::string& weights_path) {
  nlohmann::json sidecar = read_json_file(sidecar_path);
  if (!sidecar.is_object() || !sidecar.contains("fingerprints")) return sidecar;
  const auto& fingerprints = sidecar.at("fingerprints");
  require(fingerprints.is_object(), "{}: 'fingerprints' is not an object", sidecar_path);
  for (const auto& [role, recorded] : fingerprints.items()) {
    // Roles: "weights", a suffix of the weights' name (".optim"), or, as the first version wrote them,
    // a file name beside the sidecar.
    const std::string file = role == "weights"         ? weights_path
                             : role.rfind('.', 0) == 0 ? weights_path + role
                                                       : (fs::path(sidecar_path).parent_path() / role).string();
    require(fs::exists(file), "{}: describes {}, which is missing", sidecar_path, file);
    require(recorded.is_string() && recorded.get<std::string>() == file_fingerprint(file),
            "{}: describes another version of {} (a save was interrupted between the two files); resume "
            "from another checkpoint of the run, or fine-tune from this one with --FT",
            sidecar_path, file);
  }
  return sidecar;
}

}  // namespace cargovision
