// The generated training stream (select_data "synth"), fixed generated validation sets, the learning-rate
// schedule, saveable optimizer state, and resuming a recognizer run exactly where it stopped.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <regex>

#include "cargovision/core/error.h"
#include "cargovision/core/interrupt.h"
#include "cargovision/data/numpy_random.h"
#include "cargovision/io/csv.h"
#include "cargovision/io/json_file.h"
#include "cargovision/io/state_dict.h"
#include "cargovision/ocr/batch_loader.h"
#include "cargovision/ocr/code_recognizer.h"
#include "cargovision/ocr/create_lmdb.h"
#include "cargovision/ocr/demo.h"
#include "cargovision/ocr/metrics.h"
#include "cargovision/ocr/model.h"
#include "cargovision/ocr/synthetic_codes.h"
#include "cargovision/ocr/text.h"
#include "cargovision/ocr/trainer.h"
#include "cargovision/synth/code_crop.h"
#include "cargovision/train/adadelta.h"
#include "cargovision/train/optimizer_state.h"
#include "test_support.h"

namespace cargovision {
namespace {

namespace fs = std::filesystem;

ocr::OcrDataOptions sensitive_data(int batch_size) {
  ocr::OcrDataOptions data;
  data.batch_size = batch_size;
  data.sensitive = true;
  data.character = ocr::kSensitiveCharacters;
  data.workers = 2;
  return data;
}

bool same_image(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

TEST(SyntheticCodes, SampleDependsOnlyOnSeedAndIndex) {
  const auto data = sensitive_data(4);
  ocr::SyntheticCodeSource first(42, ocr::SyntheticCodeSource::kEndless, data), again(42, ocr::SyntheticCodeSource::kEndless, data),
      other(43, ocr::SyntheticCodeSource::kEndless, data);
  EXPECT_TRUE(first.endless());
  // Out of order and twice: the same sample each time.
  for (std::size_t i : {7u, 0u, 3u, 7u}) {
    const ocr::OcrSample a = first.get(i), b = again.get(i);
    EXPECT_EQ(a.label, b.label) << i;
    EXPECT_TRUE(same_image(a.image, b.image)) << i;
    EXPECT_EQ(a.image.type(), CV_8UC1);
    EXPECT_GE(a.image.rows, 20);
    EXPECT_LE(a.image.rows, 64);
    EXPECT_TRUE(std::regex_match(a.label, std::regex("[A-Z0-9]{3,12}"))) << a.label;
  }
  int differing = 0;
  for (std::size_t i = 0; i < 8; ++i) differing += first.get(i).label != other.get(i).label;
  EXPECT_GE(differing, 6) << "another seed must give another stream";
}

TEST(SyntheticCodes, CurriculumStartsCleanAndEndsAtTheFullRange) {
  const auto data = sensitive_data(4);
  const ocr::SyntheticCodeSource plain(9, ocr::SyntheticCodeSource::kEndless, data);
  const ocr::SyntheticCodeSource ramped(9, ocr::SyntheticCodeSource::kEndless, data, CodeCropOptions{}, 50);
  int cleaner = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    const ocr::OcrSample easy = ramped.get(i), hard = plain.get(i);
    EXPECT_EQ(easy.label, hard.label) << "the curriculum changes how a code looks, not which code";
    cleaner += !same_image(easy.image, hard.image);
  }
  EXPECT_GE(cleaner, 5);
  for (std::size_t i : {50u, 77u}) EXPECT_TRUE(same_image(ramped.get(i).image, plain.get(i).image)) << i;
}

TEST(SyntheticCodes, CaseInsensitiveModelsGetLowerCaseLabels) {
  ocr::OcrDataOptions data;  // default: case-insensitive 36 characters
  ocr::SyntheticCodeSource source(5, 10, data);
  for (std::size_t i = 0; i < 10; ++i) {
    EXPECT_TRUE(std::regex_match(source.get(i).label, std::regex("[a-z0-9]{3,12}"))) << source.get(i).label;
  }
  EXPECT_THROW(source.get(10), Error);
}

TEST(SyntheticCodes, ParsesValidationSetSpecs) {
  EXPECT_FALSE(ocr::parse_synthetic_set("lmdb/validation", 9).has_value());
  EXPECT_FALSE(ocr::parse_synthetic_set("synth", 9).has_value());  // a folder may be called that
  const auto plain = ocr::parse_synthetic_set("synth:500", 9);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->count, 500u);
  EXPECT_EQ(plain->seed, 9u);
  const auto seeded = ocr::parse_synthetic_set("synth:20:77", 9);
  ASSERT_TRUE(seeded.has_value());
  EXPECT_EQ(seeded->count, 20u);
  EXPECT_EQ(seeded->seed, 77u);
  for (const char* bad : {"synth:", "synth:x", "synth:-3", "synth:0", "synth:5:seed"}) {
    EXPECT_THROW(ocr::parse_synthetic_set(bad, 9), Error) << bad;
  }
  EXPECT_NE(ocr::training_stream_seed(1111), 1111u);
}

// Crops of `codes` (32 px high) named <code>.png with their gt.txt in `crops`, and their LMDB at `lmdb`.
void make_code_lmdb(const fs::path& crops, const std::vector<std::string>& codes, std::uint32_t seed,
                    const fs::path& lmdb) {
  std::string gt;
  NumpyRandom random(seed);
  CodeCropOptions crop;
  crop.height = 32;
  for (const auto& code : codes) {
    testing::write_image(crops / (code + ".png"), render_code_crop(code, crop, random));
    gt += code + ".png\t" + code + "\n";
  }
  testing::write_bytes(crops / "gt.txt", gt);
  ocr::CreateLmdbOptions options;
  options.inputPath = crops.string();
  options.gtFile = (crops / "gt.txt").string();
  options.outputPath = lmdb.string();
  ocr::create_lmdb(options);
}

// One LMDB selection of 7 crops at batch size 3: 3 + 3 + 1 would leave a batch of one, which batch norm
// cannot train on; it joins the batch before.
TEST(SyntheticCodes, SingleSelectionNeverYieldsABatchOfOne) {
  testing::TempDir dir;
  make_code_lmdb(dir.path() / "crops", {"2000", "2001", "2002", "2003", "2004", "2005", "2006"}, 4,
                 dir.path() / "lmdb" / "01");
  auto data = sensitive_data(3);
  data.train_data = (dir.path() / "lmdb").string();
  data.select_data = "01";
  data.batch_ratio = "1";
  ocr::BatchBalancedLoader loader(data, 1111);
  std::vector<std::size_t> sizes;
  for (int b = 0; b < 4; ++b) sizes.push_back(loader.next().labels.size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 4, 3, 4}));
}

TEST(SyntheticCodes, StreamMixesWithLmdbAtTheAskedRatio) {
  testing::TempDir dir;
  // A small LMDB selection "01" of 6 four-digit codes.
  make_code_lmdb(dir.path() / "crops", {"1000", "1007", "1014", "1021", "1028", "1035"}, 3, dir.path() / "lmdb" / "01");

  auto data = sensitive_data(8);
  data.train_data = (dir.path() / "lmdb").string();
  data.select_data = "01-synth";
  data.batch_ratio = "0.25-0.75";
  ocr::BatchBalancedLoader loader(data, 1111);
  EXPECT_EQ(loader.batch_sizes(), (std::vector<int>{2, 6}));
  EXPECT_NE(loader.log().find("num total samples of synth: endless (generated)"), std::string::npos) << loader.log();
  const ocr::SyntheticCodeSource expected(ocr::training_stream_seed(1111), ocr::SyntheticCodeSource::kEndless, data);
  std::size_t generated = 0;
  for (int b = 0; b < 4; ++b) {  // past the LMDB selection's end (6 samples, 2 per batch)
    const ocr::OcrBatch batch = loader.next();
    ASSERT_EQ(batch.labels.size(), 8u);
    EXPECT_EQ(batch.images.sizes(), (std::vector<int64_t>{8, 1, 32, 100}));
    for (int k = 0; k < 2; ++k) EXPECT_TRUE(std::regex_match(batch.labels[k], std::regex("10[0-9]{2}"))) << batch.labels[k];
    for (int k = 2; k < 8; ++k) EXPECT_EQ(batch.labels[k], expected.get(generated++).label) << "batch " << b;
  }

  // A resumed run continues both streams: skipping 3 batches gives the 4th batch of a fresh loader.
  ocr::BatchBalancedLoader fresh(data, 1111), resumed(data, 1111, 3);
  ocr::OcrBatch fourth;
  for (int b = 0; b < 4; ++b) fourth = fresh.next();
  const ocr::OcrBatch skipped = resumed.next();
  EXPECT_EQ(skipped.labels, fourth.labels);
  EXPECT_TRUE(torch::equal(skipped.images, fourth.images));
}

TEST(SyntheticCodes, GeneratedOnlyTrainingNeedsNoTrainData) {
  auto data = sensitive_data(4);
  data.select_data = "synth";
  data.batch_ratio = "1";
  ocr::BatchBalancedLoader loader(data, 7);
  EXPECT_EQ(loader.total_batch_size(), 4);
  EXPECT_EQ(loader.next().labels.size(), 4u);
  data.select_data = "01";
  try {
    ocr::BatchBalancedLoader missing(data, 7);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("names LMDB selection '01' but --train_data is empty"), std::string::npos) << e.what();
  }
  const auto validation = ocr::open_validation_source("synth:12:5", data);
  EXPECT_EQ(validation.source->size(), 12u);
  EXPECT_FALSE(validation.source->endless());
  EXPECT_EQ(validation.source->get(3).label, ocr::SyntheticCodeSource(5, 12, data).get(3).label);
}

TEST(LearningRate, WarmsUpThenDecaysByCosine) {
  ocr::OcrTrainOptions o;
  o.lr = 1e-3;
  o.num_iter = 1100;
  o.warmup_iter = 100;
  EXPECT_DOUBLE_EQ(ocr::scheduled_lr(o, 0), 1e-5);
  EXPECT_NEAR(ocr::scheduled_lr(o, 50), 1e-3 * (0.01 + 0.99 * 0.5), 1e-12);
  EXPECT_DOUBLE_EQ(ocr::scheduled_lr(o, 100), 1e-3);
  EXPECT_DOUBLE_EQ(ocr::scheduled_lr(o, 1000), 1e-3);  // constant by default
  o.lr_schedule = "cosine";
  o.final_lr_ratio = 0.1;
  EXPECT_DOUBLE_EQ(ocr::scheduled_lr(o, 100), 1e-3);
  EXPECT_NEAR(ocr::scheduled_lr(o, 600), 1e-3 * (0.1 + 0.9 * 0.5), 1e-12);  // half-way
  EXPECT_NEAR(ocr::scheduled_lr(o, 1100), 1e-4, 1e-12);
  // Resumed at 600 without the optimizer's moments: the same decay, warmed up again from 600.
  EXPECT_NEAR(ocr::scheduled_lr(o, 600, 600), 1e-3 * (0.1 + 0.9 * 0.5) * 0.01, 1e-12);
  EXPECT_NEAR(ocr::scheduled_lr(o, 650, 600), ocr::scheduled_lr(o, 650) * (0.01 + 0.99 * 0.5), 1e-12);
  EXPECT_DOUBLE_EQ(ocr::scheduled_lr(o, 700, 600), ocr::scheduled_lr(o, 700));
}

TEST(AdadeltaState, SavedAndRestoredStateContinuesIdentically) {
  testing::TempDir dir;
  auto p = torch::tensor({1.0, -2.0, 0.5}, torch::requires_grad());
  Adadelta optimizer({p}, AdadeltaOptions(1.0).rho(0.95).eps(1e-8));
  const auto gradient = [](int step) { return torch::tensor({0.5, -1.0, 0.25}) * (1.0 + step); };
  for (int step = 0; step < 3; ++step) {
    p.mutable_grad() = gradient(step);
    optimizer.step();
  }
  const auto path = (dir.path() / "adadelta.pt").string();
  torch::save(optimizer, path);
  auto q = p.detach().clone().requires_grad_(true);
  Adadelta restored({q}, AdadeltaOptions(1.0).rho(0.95).eps(1e-8));
  torch::load(restored, path);
  Adadelta afresh({q.detach().clone().requires_grad_(true)}, AdadeltaOptions(1.0).rho(0.95).eps(1e-8));
  p.mutable_grad() = gradient(3);
  q.mutable_grad() = gradient(3);
  optimizer.step();
  restored.step();
  EXPECT_TRUE(torch::allclose(p, q, 0, 1e-12)) << p << q;
  restored.param_groups()[0].options().set_lr(0.5);
  EXPECT_DOUBLE_EQ(static_cast<AdadeltaOptions&>(restored.param_groups()[0].options()).lr(), 0.5);
}

ocr::OcrTrainOptions tiny_generated_run(const testing::TempDir& dir, const std::string& exp_name, int num_iter) {
  ocr::OcrTrainOptions o;
  o.Transformation = "TPS";
  o.FeatureExtraction = "ResNet";
  o.SequenceModeling = "BiLSTM";
  o.Prediction = "Attn";
  o.num_fiducial = 6;
  o.output_channel = 32;
  o.hidden_size = 16;
  o.sensitive = true;
  o.batch_max_length = 12;
  o.select_data = "synth";
  o.batch_ratio = "1";
  o.valid_data = "synth:6:3";
  o.batch_size = 4;
  o.num_iter = num_iter;
  o.valInterval = 2;
  o.adam = true;
  o.lr = 1e-3;
  o.warmup_iter = 5;  // reaches past the resume point: the schedule must continue where it stopped
  o.threads = 1;
  o.workers = 1;
  o.kernels = "libtorch";
  o.saved_models_dir = dir.str();
  o.exp_name = exp_name;
  o.log_level = "warn";
  ocr::finalize(o);
  return o;
}

TEST(OcrResume, ResumedRunEqualsAnUninterruptedOne) {
  testing::TempDir dir;
  clear_interrupt();
  ocr::train_ocr(tiny_generated_run(dir, "straight", 6));
  ocr::train_ocr(tiny_generated_run(dir, "resumed", 4));
  auto resume = tiny_generated_run(dir, "resumed", 6);
  resume.saved_model = (dir.path() / "resumed" / "latest.pth").string();
  ASSERT_TRUE(fs::exists(resume.saved_model + ".optim")) << "the optimizer state is saved beside latest.pth";
  const auto summary = ocr::train_ocr(resume);
  EXPECT_EQ(summary.iterations_done, 6);

  const auto straight = load_state_dict_file((dir.path() / "straight" / "latest.pth").string());
  const auto resumed = load_state_dict_file((dir.path() / "resumed" / "latest.pth").string());
  ASSERT_EQ(straight.size(), resumed.size());
  for (const auto& item : straight) {
    const torch::Tensor* other = resumed.find(item.key());
    ASSERT_NE(other, nullptr) << item.key();
    EXPECT_TRUE(torch::allclose(item.value(), *other, 1e-5, 1e-6)) << item.key() << " differs after resuming";
  }
  const auto sidecar = read_json_file((dir.path() / "resumed" / "latest.pth.json").string());
  EXPECT_EQ(sidecar.at("iteration").get<int>(), 6);
  // Validations at 1, 2, 4 before the stop and 6 after it: none repeated at the resume point.
  const std::string log = testing::read_text(dir.path() / "resumed" / "log_train.txt");
  std::regex header("\\[(\\d+)/\\d+\\] Train loss");
  std::vector<std::string> validated;
  for (std::sregex_iterator it(log.begin(), log.end(), header), end; it != end; ++it) validated.push_back((*it)[1]);
  EXPECT_EQ(validated, (std::vector<std::string>{"1", "2", "4", "6"}));
}

// --saveInterval keeps the weights along the way (the original's iter_<N>.pth), each once, never overwritten.
TEST(OcrResume, SaveIntervalKeepsIterationCheckpoints) {
  testing::TempDir dir;
  clear_interrupt();
  auto options = tiny_generated_run(dir, "kept", 6);
  options.saveInterval = 3;
  ocr::train_ocr(options);
  const fs::path run = dir.path() / "kept";
  EXPECT_FALSE(fs::exists(run / "iter_2.pth"));
  ASSERT_TRUE(fs::exists(run / "iter_3.pth"));
  ASSERT_TRUE(fs::exists(run / "iter_6.pth"));
  EXPECT_EQ(read_json_file((run / "iter_3.pth.json").string()).at("iteration").get<int>(), 3);
  const auto last = load_state_dict_file((run / "iter_6.pth").string());
  const auto latest = load_state_dict_file((run / "latest.pth").string());
  const auto middle = load_state_dict_file((run / "iter_3.pth").string());
  const std::string key = latest.keys().front();
  EXPECT_TRUE(torch::equal(last[key], latest[key])) << "iter_6.pth holds the weights after iteration 6";
  EXPECT_FALSE(torch::equal(middle[key], latest[key])) << "iter_3.pth was not overwritten later";
  EXPECT_FALSE(fs::exists(run / "iter_3.pth.optim")) << "only latest.pth carries the optimizer state";

  options.saveInterval = 0;
  EXPECT_THROW(ocr::finalize(options), Error);
}

// A crash after latest.pth was replaced but before its sidecar was: the resume must not continue with
// the old sidecar's iteration count and scores.
TEST(OcrResume, HalfWrittenCheckpointIsRefused) {
  testing::TempDir dir;
  clear_interrupt();
  ocr::train_ocr(tiny_generated_run(dir, "crashed", 4));
  const std::string latest = (dir.path() / "crashed" / "latest.pth").string();
  StateDict newer = load_state_dict_file(latest);
  newer[newer.keys().front()] += 1.0;
  save_state_dict(newer, latest);
  auto resume = tiny_generated_run(dir, "crashed", 6);
  resume.saved_model = latest;
  try {
    ocr::train_ocr(resume);
    FAIL() << "resumed from a checkpoint its sidecar does not describe";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("latest.pth.json: describes another version of " + latest), std::string::npos)
        << e.what();
  }
}

TEST(OcrScoring, RulesOfTheOriginalTestPy) {
  const std::u32string printable = ocr::decode_utf8(ocr::kSensitiveCharacters, "test");
  const ocr::ScoringRules sensitive{true, false, printable};
  EXPECT_TRUE(ocr::score_prediction("FB875209", "FB875209", sensitive).correct);
  EXPECT_FALSE(ocr::score_prediction("fb875209", "FB875209", sensitive).correct);
  EXPECT_DOUBLE_EQ(ocr::score_prediction("FB875208", "FB875209", sensitive).norm_ED, 1.0 - 1.0 / 8.0);
  // A case-insensitive model: its labels are lower-cased as its dataset lower-cases them.
  const ocr::ScoringRules insensitive{false, false, ocr::decode_utf8(ocr::kCaseInsensitiveCharacters, "test")};
  EXPECT_TRUE(ocr::score_prediction("fb875209", "FB875209", insensitive).correct);
  // --sensitive with --data_filtering_off: lower-cased alphanumerics only.
  const ocr::ScoringRules unfiltered{true, true, printable};
  EXPECT_TRUE(ocr::score_prediction("fb-875209", "FB 875209", unfiltered).correct);
  // A custom --character set: characters outside it are not in the label the model is scored on.
  const ocr::ScoringRules digits{true, false, ocr::decode_utf8("0123456789", "test")};
  EXPECT_TRUE(ocr::score_prediction("875209", "FB875209", digits).correct);
  // Empty against empty matches, and its norm_ED is 0, as the original computes it.
  const ocr::SampleScore empty = ocr::score_prediction("", "", sensitive);
  EXPECT_TRUE(empty.correct);
  EXPECT_DOUBLE_EQ(empty.norm_ED, 0.0);
}

// train_ocr's validation and demo_ocr --gt score the same checkpoint on the same crops alike.
TEST(OcrScoring, DemoScoresAsValidationDoes) {
  testing::TempDir dir;
  const fs::path crops = dir.path() / "crops";
  const std::vector<std::string> codes{"Ab12", "983S11B41", "fb-875209", "3801", "22G1", "x7"};
  const fs::path valid = dir.path() / "valid";
  make_code_lmdb(crops, codes, 5, valid);
  const std::string gt = testing::read_text(crops / "gt.txt");

  clear_interrupt();
  auto training = tiny_generated_run(dir, "scored", 6);
  training.valid_data = valid.string();
  training.data_filtering_off = true;
  ocr::train_ocr(training);
  const auto sidecar = read_json_file((dir.path() / "scored" / "latest.pth.json").string());

  ocr::OcrDemoOptions demo;
  static_cast<ocr::OcrRecognizerOptions&>(demo) = static_cast<const ocr::OcrRecognizerOptions&>(training);
  demo.lmdb = valid.string();
  demo.data_filtering_off = true;
  demo.reread_below = 0;  // validation reads each crop once
  demo.saved_model = (dir.path() / "scored" / "latest.pth").string();
  demo.output_dir = (dir.path() / "demo").string();
  ocr::finalize(demo);
  const ocr::OcrDemoSummary summary = ocr::demo_ocr(demo);
  ASSERT_EQ(summary.with_ground_truth, codes.size());
  EXPECT_NEAR(100.0 * static_cast<double>(summary.correct) / static_cast<double>(codes.size()),
              sidecar.at("accuracy").get<double>(), 1e-9);
  EXPECT_NEAR(summary.norm_ED, sidecar.at("norm_ED").get<double>(), 1e-9);
  // The training run drew its curves from log_train.txt; the demo wrote its page.
  EXPECT_EQ(cv::imread((dir.path() / "scored" / "curves.png").string()).size(), cv::Size(3 * 560, 380));
  const std::string page = testing::read_text(summary.html_path);
  std::size_t crop_rows = 0;
  for (const char* verdict : {"<tr class=\"right\">", "<tr class=\"wrong\">"}) {
    for (auto at = page.find(verdict); at != std::string::npos; at = page.find(verdict, at + 1)) ++crop_rows;
  }
  EXPECT_EQ(crop_rows, codes.size());
  EXPECT_NE(page.find(fmt::format("({}/{})", summary.correct, codes.size())), std::string::npos);
  const auto seen = testing::check_page_in_browser(summary.html_path);
  if (seen.available) {
    EXPECT_TRUE(seen.ready) << seen.detail;
    EXPECT_EQ(seen.images, static_cast<int>(2 * codes.size())) << seen.detail;
    EXPECT_EQ(seen.broken_images, 0) << seen.detail;
    EXPECT_EQ(seen.script_errors, 0) << seen.detail;
  }

  // A ground truth longer than --batch_max_length (12) is scored (it cannot be read whole), not fatal.
  testing::write_bytes(crops / "long_gt.txt", "Ab12.png\tABCDEFGHIJKLMNOPQRST\n" + gt.substr(gt.find('\n') + 1));
  demo.lmdb.clear();
  demo.image_folder = crops.string();
  demo.gt = (crops / "long_gt.txt").string();
  const ocr::OcrDemoSummary with_long_label = ocr::demo_ocr(demo);
  EXPECT_EQ(with_long_label.with_ground_truth, codes.size());
  EXPECT_LE(with_long_label.correct, summary.correct);

  // The library component reads each file as demo_ocr did: same text, same confidence.
  const ocr::CodeRecognizer recognizer(demo);
  std::istringstream csv(testing::read_text(with_long_label.csv_path));
  std::string line;
  std::getline(csv, line);
  std::size_t compared = 0;
  while (std::getline(csv, line)) {
    const auto cells = csv_split(line);
    if (cells.size() < 3 || !fs::exists(crops / cells[0])) continue;
    const ocr::CodeReading reading = recognizer.read_file((crops / cells[0]).string());
    EXPECT_EQ(reading.text, cells[1]) << cells[0];
    EXPECT_EQ(fmt::format("{:.4f}", reading.confidence), cells[2]) << cells[0];
    ++compared;
  }
  EXPECT_EQ(compared, codes.size());
  EXPECT_THROW(recognizer.read_file((crops / "missing.png").string()), Error);

  // Ctrl-C: stops before the next batch, writes no partial report.
  demo.output_dir = (dir.path() / "interrupted").string();
  request_interrupt();
  EXPECT_THROW(ocr::demo_ocr(demo), Interrupted);
  clear_interrupt();
  EXPECT_FALSE(fs::exists(dir.path() / "interrupted" / "demo_result.csv"));
}

// --transformation_lr_ratio: the TPS stage is a second parameter group at that fraction of the
// scheduled rate (0 holds it still), and the saved optimizer state keeps both groups.
TEST(OcrTraining, TransformationLearnsAtItsOwnRate) {
  testing::TempDir dir;
  clear_interrupt();
  auto options = tiny_generated_run(dir, "tps_still", 2);
  options.transformation_lr_ratio = 0.0;
  ocr::train_ocr(options);
  // Validations at iterations 1 and 2: best_accuracy.pth holds the first, latest.pth the second.
  const auto first = load_state_dict_file((dir.path() / "tps_still" / "best_accuracy.pth").string());
  const auto second = load_state_dict_file((dir.path() / "tps_still" / "latest.pth").string());
  int transformation_tensors = 0, moved = 0;
  for (const auto& item : second) {
    if (item.key().find("LocalizationNetwork") != std::string::npos && item.key().find("running") == std::string::npos &&
        item.key().find("num_batches") == std::string::npos) {
      ++transformation_tensors;
      EXPECT_TRUE(torch::equal(item.value(), *first.find(item.key()))) << item.key() << " moved at rate 0";
    } else if (item.key().find("FeatureExtraction") != std::string::npos && !torch::equal(item.value(), *first.find(item.key()))) {
      ++moved;
    }
  }
  EXPECT_GT(transformation_tensors, 0);
  EXPECT_GT(moved, 0) << "the other stages still learn";

  ocr::OcrModel model(ocr::model_options(options, 2 + static_cast<int64_t>(ocr::decode_utf8(options.character, "t").size())));
  std::vector<torch::Tensor> stages, transformation;
  for (const auto& item : model->named_parameters()) {
    (item.key().rfind("Transformation.", 0) == 0 ? transformation : stages).push_back(item.value());
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(stages, std::make_unique<torch::optim::AdamOptions>(1e-3));
  groups.emplace_back(transformation, std::make_unique<torch::optim::AdamOptions>(1e-3));
  torch::optim::Adam two_groups(groups, torch::optim::AdamOptions(1e-3));
  EXPECT_NO_THROW(load_optimizer_state(two_groups, (dir.path() / "tps_still" / "latest.pth.optim").string()));
}

}  // namespace
}  // namespace cargovision
