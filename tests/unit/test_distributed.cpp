// Data-parallel training: shards, the synchronised batch norm against LibTorch's, and ranks (threads of
// this process, each a rank of a Gloo group on localhost) training as one process with the whole batch.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "cargovision/core/error.h"
#include "cargovision/distributed/data_parallel.h"
#include "cargovision/distributed/process_group.h"
#include "cargovision/distributed/rank.h"
#include "cargovision/models/batch_norm.h"
#include "cargovision/io/state_dict.h"
#include "cargovision/models/resnet.h"
#include "test_config.h"
#include "test_support.h"

namespace cv_ = cargovision;
namespace dist = cargovision::distributed;

namespace {

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

// Runs body(group) on `size` threads, each one rank of a Gloo group; rethrows the first failure.
void run_ranks(int size, const std::function<void(dist::ProcessGroup&)>& body, int timeout_s = 60) {
  const int port = free_port();
  std::vector<std::exception_ptr> failures(static_cast<std::size_t>(size));
  std::vector<std::thread> threads;
  for (int rank = 0; rank < size; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        dist::RankInfo info;
        info.rank = rank;
        info.world_size = size;
        info.master_port = port;
        dist::DistributedOptions options;
        options.timeout_s = timeout_s;
        dist::ProcessGroup group(info, options, torch::kCPU);
        body(group);
      } catch (...) {
        failures[static_cast<std::size_t>(rank)] = std::current_exception();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& failure : failures) {
    if (failure) std::rethrow_exception(failure);
  }
}

// Sums over "processes" that are just this one: the synchronised path with nothing to exchange.
class AloneReducer : public cv_::models::BatchStatisticsReducer {
 public:
  torch::Tensor sum_over_processes(const torch::Tensor& local) override { return local * 1; }
};

double max_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// A small network with what the recognizer's and classifier's backbones have: convolutions, batch
// norms (one inside a residual block with a downsampling branch), pooling and a linear layer.
struct TinyNetImpl : torch::nn::Module {
  TinyNetImpl() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).padding(1).bias(false)));
    norm = register_module("norm", cv_::models::BatchNorm2d(8));
    block = register_module("block", cv_::models::BasicBlock(8, 16, 2));
    fc = register_module("fc", torch::nn::Linear(16, 2));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = torch::relu(norm(conv(x)));
    y = block(y);
    return fc(y.mean({2, 3}));
  }
  torch::nn::Conv2d conv{nullptr};
  cv_::models::BatchNorm2d norm{nullptr};
  cv_::models::BasicBlock block{nullptr};
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(TinyNet);

void copy_state(TinyNet& to, const TinyNet& from) {
  torch::NoGradGuard no_grad;
  const auto source_parameters = from->parameters();
  const auto target_parameters = to->parameters();
  for (std::size_t i = 0; i < source_parameters.size(); ++i) target_parameters[i].copy_(source_parameters[i]);
  const auto source_buffers = from->buffers();
  const auto target_buffers = to->buffers();
  for (std::size_t i = 0; i < source_buffers.size(); ++i) target_buffers[i].copy_(source_buffers[i]);
}

// The environment as it is now must be refused with exactly this message.
void expect_environment_error(const std::string& message) {
  try {
    dist::rank_info_from_environment();
    ADD_FAILURE() << "accepted; expected: " << message;
  } catch (const cv_::Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

}  // namespace

TEST(Shard, EveryRowOnceInRoundRobin) {
  for (int size : {1, 2, 3}) {
    for (std::size_t total : {1u, 2u, 7u, 64u}) {
      std::multiset<std::size_t> taken;
      std::size_t counted = 0;
      for (int rank = 0; rank < size; ++rank) {
        const dist::Shard shard{rank, size};
        for (std::size_t row = 0; row < total; ++row) {
          if (shard.owns(row)) taken.insert(row);
        }
        counted += shard.count(total);
        EXPECT_LE(shard.count(total), total / static_cast<std::size_t>(size) + 1);
      }
      EXPECT_EQ(taken.size(), total);
      EXPECT_EQ(std::set<std::size_t>(taken.begin(), taken.end()).size(), total);
      EXPECT_EQ(counted, total);
    }
  }
  // The seed's 31 + 31 + 2 mix over two ranks: rows 0-30, 31-61, 62-63 give each rank 16+15+1 or 15+16+1.
  const dist::Shard first{0, 2};
  int mixed[3] = {0, 0, 0};
  for (std::size_t row = 0; row < 64; ++row) {
    if (first.owns(row)) ++mixed[row < 31 ? 0 : row < 62 ? 1 : 2];
  }
  EXPECT_EQ(mixed[0], 16);
  EXPECT_EQ(mixed[1], 15);
  EXPECT_EQ(mixed[2], 1);
}

TEST(RankEnvironment, ReadsTorchrunVariablesAndNamesABadOne) {
  ::unsetenv("WORLD_SIZE");
  EXPECT_FALSE(dist::rank_info_from_environment().has_value());
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("RANK", "1", 1);
  ::setenv("LOCAL_RANK", "1", 1);
  ::setenv("MASTER_ADDR", "10.0.0.7", 1);
  ::setenv("MASTER_PORT", "29511", 1);
  const auto info = dist::rank_info_from_environment();
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->rank, 1);
  EXPECT_EQ(info->world_size, 2);
  EXPECT_EQ(info->master_addr, "10.0.0.7");
  EXPECT_EQ(info->master_port, 29511);
  EXPECT_EQ(dist::device_for_rank("cuda"), "cuda:1");  // one GPU per local rank
  EXPECT_EQ(dist::device_for_rank("cuda:0"), "cuda:0");
  EXPECT_EQ(dist::device_for_rank("cpu"), "cpu");
  ::setenv("RANK", "2", 1);
  expect_environment_error("RANK=2 is not below WORLD_SIZE=2");
  ::setenv("RANK", "0", 1);
  ::setenv("MASTER_PORT", "http", 1);
  expect_environment_error("MASTER_PORT='http' is not a non-negative whole number");
  for (const char* name : {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(name);
}

TEST(SyncBatchNorm, AloneComputesWhatTorchBatchNormComputes) {
  torch::manual_seed(3);
  torch::nn::BatchNorm2d reference(6);
  cv_::models::BatchNorm2d ours(6);
  {
    torch::NoGradGuard no_grad;
    reference->weight.uniform_(0.5, 1.5);
    reference->bias.uniform_(-0.5, 0.5);
    ours->weight.copy_(reference->weight);
    ours->bias.copy_(reference->bias);
  }
  ours->synchronize_statistics(std::make_shared<AloneReducer>());
  for (int step = 0; step < 3; ++step) {
    const auto input = (torch::randn({5, 6, 4, 3}) * 3 + 2).requires_grad_(true);
    const auto mine = input.detach().clone().requires_grad_(true);
    const auto upstream = torch::randn({5, 6, 4, 3});
    const auto expected = reference(input);
    const auto got = ours(mine);
    EXPECT_LT(max_difference(got, expected), 2e-5);
    (expected * upstream).sum().backward();
    (got * upstream).sum().backward();
    EXPECT_LT(max_difference(mine.grad(), input.grad()), 2e-5);
    EXPECT_LT(max_difference(ours->weight.grad(), reference->weight.grad()), 1e-4);
    EXPECT_LT(max_difference(ours->bias.grad(), reference->bias.grad()), 1e-4);
    EXPECT_LT(max_difference(ours->running_mean, reference->running_mean), 1e-6);
    EXPECT_LT(max_difference(ours->running_var, reference->running_var), 1e-5);
    EXPECT_EQ(ours->num_batches_tracked.item<int64_t>(), step + 1);
  }
  ours->eval();
  reference->eval();
  const auto input = torch::randn({2, 6, 3, 3});
  EXPECT_LT(max_difference(ours(input), reference(input)), 1e-6);
  // The state dict's names and order are torch::nn::BatchNorm2d's.
  std::vector<std::string> names;
  for (const auto& item : ours->named_parameters()) names.push_back(item.key());
  for (const auto& item : ours->named_buffers()) names.push_back(item.key());
  EXPECT_EQ(names, (std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}));
}

TEST(DataParallel, TwoRanksTrainAsOneProcessWithTheWholeBatch) {
  torch::set_num_threads(1);
  torch::manual_seed(11);
  TinyNet single;
  TinyNet replicas[2] = {TinyNet(), TinyNet()};
  for (auto& replica : replicas) copy_state(replica, single);
  constexpr int kSteps = 3;
  constexpr double kLearningRate = 0.1;
  std::vector<torch::Tensor> images, targets;
  for (int step = 0; step < kSteps; ++step) {
    images.push_back(torch::randn({7, 3, 8, 8}));  // 7: the ranks take 4 and 3 rows
    targets.push_back(torch::randn({7, 2}));
  }
  torch::optim::SGD single_optimizer(single->parameters(), kLearningRate);
  for (int step = 0; step < kSteps; ++step) {
    single_optimizer.zero_grad();
    torch::mse_loss(single(images[step]), targets[step]).backward();
    single_optimizer.step();
  }

  run_ranks(2, [&](dist::ProcessGroup& group) {
    TinyNet& model = replicas[group.rank()];
    dist::broadcast_module_state(group, *model);
    dist::synchronize_batch_norm(group, *model);
    dist::GradientAverager averager(group, *model, /*first_bucket_bytes=*/256, /*bucket_bytes=*/2048);
    EXPECT_GT(averager.bucket_count(), 2u);  // several buckets, launched while the backward pass runs
    torch::optim::SGD optimizer(model->parameters(), kLearningRate);
    const auto rows = torch::arange(group.rank(), 7, 2);
    for (int step = 0; step < kSteps; ++step) {
      optimizer.zero_grad();
      const auto output = model(images[step].index_select(0, rows));
      // This rank's share of the global mean, times the ranks (the averager divides by them).
      const auto local_sum = (output - targets[step].index_select(0, rows)).pow(2).sum();
      averager.backward(local_sum * (2.0 / (7.0 * 2.0)));
      optimizer.step();
    }
  });

  const auto expected = single->named_parameters();
  for (const auto& replica : replicas) {
    for (const auto& item : replica->named_parameters()) {
      EXPECT_LT(max_difference(item.value(), expected[item.key()]), 2e-5) << item.key();
    }
    const auto expected_buffers = single->named_buffers();
    for (const auto& item : replica->named_buffers()) {
      EXPECT_LT(max_difference(item.value(), expected_buffers[item.key()]), 2e-5) << item.key();
    }
  }
}

TEST(DataParallel, ACollectiveWithAMissingRankFailsNamingTheRank) {
  try {
    run_ranks(
        2,
        [](dist::ProcessGroup& group) {
          if (group.rank() == 1) return;  // rank 1 leaves without taking part
          group.sum({1.0});
        },
        /*timeout_s=*/3);
    ADD_FAILURE() << "the all-reduce without rank 1 returned";
  } catch (const cv_::Error& e) {
    EXPECT_NE(std::string(e.what()).find("rank 0 of 2: all-reduce failed: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("within 3 s"), std::string::npos) << e.what();
  }
}

// The apps under scripts/launch.sh against the same app as one process: same global batch, same seed.
namespace {

std::string run_dir_command(const std::string& launcher, const std::string& app, const std::string& arguments,
                            const std::filesystem::path& log) {
  return launcher + " " + (std::filesystem::path(cv_::kBinaryDir) / app).string() + " " + arguments + " > " +
         log.string() + " 2>&1";
}

// Float rounding differs between a batch computed whole and in shards (the synchronised batch norm sums
// in another order) and grows with each step: a few iterations from random weights leave ~1e-4 between
// the runs, where a wrong average, batch norm or shard would differ by whole steps (tests above check the
// averaging itself to 2e-5 under SGD). Running statistics follow the weights.
void expect_same_weights(const std::string& one, const std::string& two, double tolerance,
                         double statistics_tolerance) {
  const auto expected = cv_::load_state_dict_file(one);
  const auto got = cv_::load_state_dict_file(two);
  ASSERT_EQ(expected.size(), got.size());
  for (const auto& item : expected) {
    const auto* other = got.find(item.key());
    ASSERT_NE(other, nullptr) << item.key();
    if (!item.value().is_floating_point()) {
      EXPECT_TRUE(torch::equal(item.value(), *other)) << item.key();
      continue;
    }
    const bool statistic = item.key().find("running_") != std::string::npos;
    EXPECT_LT(max_difference(item.value(), *other), statistic ? statistics_tolerance : tolerance) << item.key();
  }
}

}  // namespace

TEST(DistributedTraining, TrainOcrOnTwoRanksMatchesOneProcess) {
  cv_::testing::TempDir dir;
  // The seed's ResNet-BiLSTM-Attn (narrowed), Adadelta as the original, LibTorch's kernels: a global batch of
  // 8 from the generated stream, 4 per rank. (With TPS the zero-initialised localisation layer makes the
  // first steps sensitive to float rounding: see README, data-parallel training.)
  const std::string arguments =
      "--select_data synth --batch_ratio 1 --valid_data synth:24 --batch_size 8 --num_iter 3 --valInterval 3 "
      "--Transformation None --FeatureExtraction ResNet --SequenceModeling BiLSTM --Prediction Attn "
      "--output_channel 32 --hidden_size 32 --workers 1 --manualSeed 7 --kernels libtorch --log_level warn "
      "--saved_models_dir " + dir.str();
  const std::string launch = "bash " + (std::filesystem::path(cv_::kSourceDir) / "scripts/launch.sh").string() + " 2";
  ASSERT_EQ(std::system(run_dir_command("OMP_NUM_THREADS=1", "train_ocr", arguments + " --exp_name one",
                                        dir.path() / "one.log").c_str()), 0) << cv_::testing::read_text(dir.path() / "one.log");
  ASSERT_EQ(std::system(run_dir_command(launch, "train_ocr", arguments + " --exp_name two", dir.path() / "two.log").c_str()),
            0) << cv_::testing::read_text(dir.path() / "two.log");
  expect_same_weights((dir.path() / "one/latest.pth").string(), (dir.path() / "two/latest.pth").string(), 5e-4, 5e-4);
  // The validation block (losses, accuracy, norm_ED, the first predictions) is the single process's.
  const auto block = [](const std::string& log) {
    const auto text = log.substr(log.find("[3/3]"));
    return text.substr(text.find("Current_accuracy"));
  };
  EXPECT_EQ(block(cv_::testing::read_text(dir.path() / "two/log_train.txt")),
            block(cv_::testing::read_text(dir.path() / "one/log_train.txt")));
  EXPECT_NE(cv_::testing::read_text(dir.path() / "two/options.json").find("\"world_size\": 2"), std::string::npos);
}

TEST(DistributedTraining, PreprocessOnTwoRanksMatchesOneProcess) {
  cv_::testing::TempDir dir;
  cv_::testing::make_two_class_folder(dir.path() / "cargo", 20, 48, 5);
  // Augmentation and dropout on: each rank takes its rows of the draws made for the whole batch.
  const std::string arguments = "--train-dir " + (dir.path() / "cargo").string() +
                                " --backbone resnet18 --image-size 32 -b 8 -e 2 --lr 1e-5 --kernels libtorch "
                                "--workers 1 --log_level warn";
  const std::string launch = "bash " + (std::filesystem::path(cv_::kSourceDir) / "scripts/launch.sh").string() + " 2";
  ASSERT_EQ(std::system(run_dir_command("OMP_NUM_THREADS=1", "preprocess", arguments + " -o " + (dir.path() / "one").string(),
                                        dir.path() / "one.log").c_str()), 0) << cv_::testing::read_text(dir.path() / "one.log");
  ASSERT_EQ(std::system(run_dir_command(launch, "preprocess", arguments + " -o " + (dir.path() / "two").string(),
                                        dir.path() / "two.log").c_str()), 0) << cv_::testing::read_text(dir.path() / "two.log");
  // Adam moves a weight by up to ~3 lr per step whatever the gradient's size, so a weight whose gradient is
  // float rounding may step either way: 1e-4 is a few such steps over 8 iterations at lr 1e-5 (a wrong
  // shard, dropout mask or augmentation shows in the history below at 1e-2).
  expect_same_weights((dir.path() / "one/last.pt").string(), (dir.path() / "two/last.pt").string(), 1e-4, 5e-4);
  const auto rows = [](const std::string& csv) {
    std::vector<std::vector<double>> table;
    std::istringstream lines(csv);
    std::string line;
    std::getline(lines, line);  // header
    while (std::getline(lines, line)) {
      std::vector<double> row;
      std::istringstream cells(line);
      std::string cell;
      for (int column = 0; column < 5 && std::getline(cells, cell, ','); ++column) row.push_back(std::stod(cell));
      table.push_back(row);
    }
    return table;
  };
  const auto expected = rows(cv_::testing::read_text(dir.path() / "one/history.csv"));
  const auto got = rows(cv_::testing::read_text(dir.path() / "two/history.csv"));
  ASSERT_EQ(expected.size(), 2u);
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t epoch = 0; epoch < expected.size(); ++epoch) {
    for (std::size_t column = 0; column < 5; ++column) {
      EXPECT_NEAR(got[epoch][column], expected[epoch][column], 1e-3 * std::abs(expected[epoch][column]) + 1e-6)
          << "epoch " << epoch + 1 << " column " << column;
    }
  }
}
