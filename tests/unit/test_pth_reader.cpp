// The .pth reader against files written by Python's torch.save (tests/python/make_pth_fixtures.py):
// each loads to the values the script wrote, or fails with a message naming the problem.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "cargovision/core/error.h"
#include "cargovision/io/pth_format.h"
#include "cargovision/io/state_dict.h"
#include "test_config.h"
#include "test_support.h"

namespace cv_ = cargovision;

namespace {

std::string fixture(const std::string& name) {
  return (std::filesystem::path(cv_::kSourceDir) / "tests" / "data" / "pth" / name).string();
}

// The script's pattern(): arange(n) * 0.25 - 1, reshaped.
torch::Tensor pattern(std::vector<int64_t> shape, torch::Dtype dtype = torch::kFloat32) {
  int64_t count = 1;
  for (auto s : shape) count *= s;
  return (torch::arange(count, torch::kFloat64) * 0.25 - 1.0).reshape(shape).to(dtype);
}

void expect_small_state_dict(const cv_::StateDict& state) {
  ASSERT_EQ(state.size(), 5u);
  const std::vector<std::string> keys{"conv.weight", "conv.bias", "bn.running_mean", "bn.num_batches_tracked", "fc.weight"};
  EXPECT_EQ(state.keys(), keys);
  EXPECT_TRUE(torch::equal(state["conv.weight"], pattern({2, 1, 3, 3})));
  EXPECT_TRUE(torch::equal(state["conv.bias"], pattern({2})));
  EXPECT_TRUE(torch::equal(state["fc.weight"], pattern({3, 2})));
  EXPECT_EQ(state["bn.num_batches_tracked"].dtype(), torch::kInt64);
  EXPECT_EQ(state["bn.num_batches_tracked"].dim(), 0);
  EXPECT_EQ(state["bn.num_batches_tracked"].item<int64_t>(), 7);
}

std::string load_error(const std::string& name) {
  try {
    cv_::load_state_dict_file(fixture(name));
  } catch (const cv_::Error& e) {
    return e.what();
  }
  return "(loaded without error)";
}

}  // namespace

TEST(PthReader, ZipOrderedDictAsTorchSaveWritesAStateDict) { expect_small_state_dict(cv_::load_state_dict_file(fixture("zip_ordereddict.pth"))); }

TEST(PthReader, ZipPlainDict) { expect_small_state_dict(cv_::load_state_dict_file(fixture("zip_dict.pth"))); }

TEST(PthReader, LegacyFormatOfPyTorchBefore16) {
  expect_small_state_dict(cv_::load_state_dict_file(fixture("legacy_ordereddict.pth")));
  const std::string bytes = cv_::testing::read_text(fixture("legacy_ordereddict.pth"));
  EXPECT_TRUE(cv_::parse_pth(bytes, "legacy").legacy_format);
}

TEST(PthReader, DataParallelPrefixIsKept) {
  const auto state = cv_::load_state_dict_file(fixture("legacy_dataparallel_ocr.pth"));
  EXPECT_EQ(state.keys(), (std::vector<std::string>{"module.Prediction.generator.weight", "module.Prediction.generator.bias"}));
  EXPECT_TRUE(torch::equal(state["module.Prediction.generator.weight"], pattern({4, 3})));
}

TEST(PthReader, ViewsShareOneStorage) {
  for (const char* name : {"zip_shared_views.pth", "legacy_shared_views.pth"}) {
    const auto state = cv_::load_state_dict_file(fixture(name));
    const auto base = pattern({4, 6});
    EXPECT_TRUE(torch::equal(state["whole"], base)) << name;
    EXPECT_TRUE(torch::equal(state["row2"], base[2])) << name;
    EXPECT_TRUE(torch::equal(state["column3"], base.select(1, 3))) << name;
    EXPECT_TRUE(torch::equal(state["block"], base.slice(0, 1, 3).slice(1, 2, 5))) << name;
    EXPECT_EQ(state["column3"].stride(0), 6) << name;
    EXPECT_EQ(state["row2"].storage_offset(), 12) << name;
    EXPECT_EQ(state["row2"].data_ptr<float>(), state["whole"].data_ptr<float>() + 12) << name << ": one storage";
  }
}

TEST(PthReader, EveryStorageType) {
  for (const char* name : {"zip_dtypes.pth", "legacy_dtypes.pth"}) {
    const auto state = cv_::load_state_dict_file(fixture(name));
    EXPECT_TRUE(torch::equal(state["half"], pattern({5}, torch::kFloat16))) << name;
    EXPECT_TRUE(torch::equal(state["double"], pattern({3}, torch::kFloat64))) << name;
    EXPECT_TRUE(torch::equal(state["long"], torch::tensor({int64_t{-3}, int64_t{0}, int64_t{1} << 40}))) << name;
    EXPECT_TRUE(torch::equal(state["byte"], torch::tensor({0, 7, 255}, torch::kUInt8))) << name;
    EXPECT_TRUE(torch::equal(state["bool"], torch::tensor({true, false, true}))) << name;
    EXPECT_TRUE(torch::equal(state["int"], torch::tensor({-5, 9}, torch::kInt32))) << name;
    EXPECT_TRUE(torch::equal(state["bfloat16"], pattern({2}, torch::kBFloat16))) << name;
    EXPECT_EQ(state["scalar"].dim(), 0) << name;
    EXPECT_FLOAT_EQ(state["scalar"].item<float>(), 2.5f) << name;
  }
}

TEST(PthReader, CheckpointWrappersAreOpened) {
  expect_small_state_dict(cv_::load_state_dict_file(fixture("zip_checkpoint_wrapper.pth")));
  expect_small_state_dict(cv_::load_state_dict_file(fixture("legacy_checkpoint_wrapper.pth")));
  const std::string bytes = cv_::testing::read_text(fixture("zip_checkpoint_wrapper.pth"));
  EXPECT_EQ(cv_::parse_pth(bytes, "wrapper").wrapper_key, "model_state_dict");
}

TEST(PthReader, BigEndianFilesAreSwapped) {
  const auto state = cv_::load_state_dict_file(fixture("legacy_big_endian.pth"));
  EXPECT_TRUE(torch::equal(state["w"], pattern({3}, torch::kFloat64)));
  EXPECT_TRUE(torch::equal(state["n"], torch::tensor({int64_t{1}, int64_t{-2}})));
}

TEST(PthReader, HostilePicklesAreRefusedNotRun) {
  for (const char* name : {"hostile_zip_os_system.pth", "hostile_legacy_os_system.pth"}) {
    const std::string message = load_error(name);
    EXPECT_NE(message.find(std::string(name) + ": refusing global 'posix.system'"), std::string::npos) << message;
  }
}

TEST(PthReader, BrokenFilesNameTheProblem) {
  EXPECT_NE(load_error("truncated_zip.pth").find("truncated_zip.pth: truncated zip archive"), std::string::npos)
      << load_error("truncated_zip.pth");
  EXPECT_NE(load_error("legacy_wrong_magic.pth").find("legacy_wrong_magic.pth: not a PyTorch file"), std::string::npos)
      << load_error("legacy_wrong_magic.pth");
  EXPECT_NE(load_error("zip_short_storage.pth").find("storage 'data/0' holds 36 bytes, but its 18 float32 elements need 72"),
            std::string::npos)
      << load_error("zip_short_storage.pth");
  EXPECT_NE(load_error("legacy_short_storage.pth").find("legacy_short_storage.pth: truncated file: storage"),
            std::string::npos)
      << load_error("legacy_short_storage.pth");
}

TEST(PthReader, RootThatIsNoStateDict) {
  cv_::testing::TempDir dir;
  // A valid legacy header (magic, protocol 1001, sys_info {}), the list [1, 2], an empty storage list.
  const auto path = dir.path() / "list.pth";
  const std::string header =
      std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15) + std::string("\x80\x02M\xe9\x03.", 6) +
      std::string("\x80\x02}q\x00.", 6);
  cv_::testing::write_bytes(path, header + std::string("\x80\x02]q\x00(K\x01K\x02" "e.", 12) +
                                      std::string("\x80\x02].", 4));  // no storages
  try {
    cv_::load_state_dict_file(path.string());
    FAIL();
  } catch (const cv_::Error& e) {
    EXPECT_NE(std::string(e.what()).find("list.pth: the file holds a list, not a state dict"), std::string::npos) << e.what();
  }
}
