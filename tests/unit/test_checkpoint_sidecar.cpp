// Checkpoint sidecars record the fingerprints of the files they describe, so that a pair left
// half-written by a crash is refused where it is read.
#include <gtest/gtest.h>

#include "cargovision/core/error.h"
#include "cargovision/io/checkpoint_sidecar.h"
#include "cargovision/io/json_file.h"
#include "test_support.h"

namespace cargovision {
namespace {

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CheckpointSidecar, FingerprintIsFnv1aOfTheBytesAndTheSize) {
  testing::TempDir dir;
  testing::write_bytes(dir.path() / "empty", "");
  testing::write_bytes(dir.path() / "a", "a");
  // FNV-1a 64 reference values: "" -> offset basis, "a" -> af63dc4c8601ec8c.
  EXPECT_EQ(file_fingerprint((dir.path() / "empty").string()), "fnv1a64:cbf29ce484222325:0");
  EXPECT_EQ(file_fingerprint((dir.path() / "a").string()), "fnv1a64:af63dc4c8601ec8c:1");
  EXPECT_NE(error_of([&] { file_fingerprint((dir.path() / "absent").string()); }).find("absent: cannot open"),
            std::string::npos);
}

TEST(CheckpointSidecar, AcceptsTheFilesItWasWrittenForAndRefusesAnyOther) {
  testing::TempDir dir;
  const auto weights = dir.path() / "latest.pth";
  const auto optimizer = dir.path() / "latest.pth.optim";
  const std::string sidecar = (dir.path() / "latest.pth.json").string();
  testing::write_bytes(weights, "weights of iteration 500");
  testing::write_bytes(optimizer, "moments of iteration 500");
  write_checkpoint_sidecar(sidecar, {{"iteration", 500}}, weights.string(), {optimizer.string()});
  const auto read = read_checkpoint_sidecar(sidecar, weights.string());
  EXPECT_EQ(read.at("iteration"), 500);
  EXPECT_EQ(read.at("fingerprints").size(), 2u);
  EXPECT_TRUE(read.at("fingerprints").contains(".optim"));

  // A crash after the weights of iteration 1000 were renamed into place, before their sidecar was.
  testing::write_bytes(weights, "weights of iteration 1000");
  const std::string message = error_of([&] { read_checkpoint_sidecar(sidecar, weights.string()); });
  EXPECT_NE(message.find("latest.pth.json: describes another version of " + weights.string()), std::string::npos)
      << message;
  EXPECT_NE(message.find("--FT"), std::string::npos) << message;

  testing::write_bytes(weights, "weights of iteration 500");
  std::filesystem::remove(optimizer);
  EXPECT_NE(error_of([&] { read_checkpoint_sidecar(sidecar, weights.string()); }).find("latest.pth.optim, which is missing"),
            std::string::npos);
}

// Renaming a checkpoint as a whole keeps it readable: fingerprints are kept by role, not by file name.
TEST(CheckpointSidecar, RenamedCheckpointStillReads) {
  testing::TempDir dir;
  testing::write_bytes(dir.path() / "best.pt", "weights");
  write_checkpoint_sidecar((dir.path() / "best.json").string(), {{"epoch", 3}}, (dir.path() / "best.pt").string());
  std::filesystem::rename(dir.path() / "best.pt", dir.path() / "cargo.pt");
  std::filesystem::rename(dir.path() / "best.json", dir.path() / "cargo.json");
  EXPECT_EQ(read_checkpoint_sidecar((dir.path() / "cargo.json").string(), (dir.path() / "cargo.pt").string()).at("epoch"),
            3);
}

TEST(CheckpointSidecar, SidecarsWithoutFingerprintsAreReadAsTheyAre) {
  testing::TempDir dir;
  const std::string sidecar = (dir.path() / "old.pth.json").string();
  write_json_file(sidecar, {{"iteration", 7}});
  EXPECT_EQ(read_checkpoint_sidecar(sidecar, (dir.path() / "old.pth").string()).at("iteration"), 7);
}

}  // namespace
}  // namespace cargovision
