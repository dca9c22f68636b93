#pragma once
// A checkpoint is several files: the weights (a plain state dict that Python's torch.load and the
// original tools read, so nothing else can go inside), sometimes an optimizer state, and a JSON sidecar
// with the iteration, the scores and the options. Each file is replaced atomically, but no rename replaces
// them together. So the sidecar, written last, records a fingerprint of every file it describes. A
// reader that finds another version of one of them (a crash between two writes) stops with an error,
// instead of resuming with the wrong iteration count or scores.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace cargovision {

// "fnv1a64:<16 hex digits>:<size in bytes>" of a file's contents.
std::string file_fingerprint(const std::string& path);

// Writes `sidecar` atomically to sidecar_path with a "fingerprints" object: "weights" -> the
// fingerprint of weights_path, and for each companion (a file of the same checkpoint named
// weights_path + suffix, e.g. ".optim") suffix -> its fingerprint. Keyed by role, not by name, so a
// checkpoint renamed as a whole (best.pt + best.json -> cargo.pt + cargo.json) still reads.
void write_checkpoint_sidecar(const std::string& sidecar_path, nlohmann::json sidecar, const std::string& weights_path,
                              const std::vector<std::string>& companions = {});

// Reads the sidecar of the checkpoint at weights_path and checks every fingerprint it records. Throws
// Error "<sidecar>: describes another version of <file> (...)" on a mismatch, or names a missing
// companion. Sidecars without fingerprints (older files) are accepted as they are.
nlohmann::json read_checkpoint_sidecar(const std::string& sidecar_path, const std::string& weights_path);

}  // namespace cargovision
