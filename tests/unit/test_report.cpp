#include <gtest/gtest.h>

#include "cargovision/classify/history.h"
#include "cargovision/classify/metrics.h"
#include "cargovision/classify/report.h"
#include "cargovision/io/csv.h"

namespace cargovision {
namespace {

TEST(TestReport, SeedLayoutWithSummaryRows) {
  std::vector<PredictionRow> rows = {{"0/empty_V1.jpg", std::string("0"), "0", 0.125},
                                     {"1/loaded, 2.jpg", std::string("1"), "0", 0.4}};
  const std::string csv = format_test_report(rows, 0.5, 300.6);
  EXPECT_EQ(csv,
            "Image list,GT,Prediction,accuracy,probability\n"
            "0/empty_V1.jpg,0,0,TRUE,0.125000\n"
            "\"1/loaded, 2.jpg\",1,0,FALSE,0.400000\n"
            "Average Accuracy,0.5000,,,\n"
            "Inference Speed(ms),300.60,,,\n");
}

TEST(TestReport, FlatFolderHasNoGroundTruth) {
  const std::string csv = format_test_report({{"a.jpg", std::nullopt, "1", 0.9}}, std::nullopt, 12.0);
  EXPECT_NE(csv.find("a.jpg,,1,,0.900000\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("Average Accuracy,,,,\n"), std::string::npos) << csv;
}

TEST(Csv, SplitUndoesEscaping) {
  const std::vector<std::string> fields = {"plain", "with,comma", "with \"quote\"", ""};
  EXPECT_EQ(csv_split(csv_line(fields)), fields);
}

TEST(Metrics, ConfusionMatrixAndScores) {
  const auto m = compute_binary_metrics({1, 1, 1, 0, 0, 0, 0, 1}, {1, 1, 0, 0, 1, 0, 0, 1});
  EXPECT_EQ(m.true_positive, 3u);
  EXPECT_EQ(m.false_negative, 1u);
  EXPECT_EQ(m.false_positive, 1u);
  EXPECT_EQ(m.true_negative, 3u);
  EXPECT_DOUBLE_EQ(m.accuracy(), 0.75);
  EXPECT_DOUBLE_EQ(m.precision(), 0.75);
  EXPECT_DOUBLE_EQ(m.recall(), 0.75);
  EXPECT_DOUBLE_EQ(m.f1(), 0.75);
  EXPECT_EQ(m.to_json()["confusion_matrix"].dump(), "[[3,1],[1,3]]");
  const auto none = compute_binary_metrics({0, 0}, {0, 0});
  EXPECT_DOUBLE_EQ(none.precision(), 0.0);
  EXPECT_DOUBLE_EQ(none.f1(), 0.0);
}

TEST(History, CsvColumns) {
  const std::string csv = format_history_csv({{1, 0.7, 0.5, 0.69, 0.55, 2e-5, 12.34, true, true}});
  EXPECT_EQ(csv,
            "epoch,loss,accuracy,val_loss,val_accuracy,lr,seconds,backbone_frozen,checkpoint_saved\n"
            "1,0.700000,0.500000,0.690000,0.550000,2e-05,12.3,1,1\n");
}

}  // namespace
}  // namespace cargovision
