#include "cargovision/classify/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "cargovision/core/error.h"
#include "cargovision/report/html.h"

namespace cargovision {
namespace {

using report::html_escape;

bool misclassified(const PredictionRow& row) { return row.ground_truth && *row.ground_truth != row.prediction; }

std::string percent(double value) { return fmt::format("{:.2f} %", 100.0 * value); }

std::string summary_table(const ClassifierReport& r) {
  std::string rows;
  const auto row = [&](const std::string& name, const std::string& value) {
    rows += fmt::format("<tr><td>{}</td><td class=\"number\">{}</td></tr>\n", html_escape(name), html_escape(value));
  };
  row("images", std::to_string(r.images.size()));
  if (r.metrics) {
    const BinaryMetrics& m = *r.metrics;
    row("accuracy", fmt::format("{} ({}/{})", percent(m.accuracy()), m.true_positive + m.true_negative, m.total()));
    const std::string positive = r.class_names.size() > 1 ? r.class_names[1] : "class 1";
    row(fmt::format("precision ({})", positive), percent(m.precision()));
    row(fmt::format("recall ({})", positive), percent(m.recall()));
    row("F1", fmt::format("{:.4f}", m.f1()));
  }
  row("decision threshold", fmt::format("{:g}", r.threshold));
  row("inference speed, model", fmt::format("{:.2f} ms/image", r.model_ms_per_image));
  row("inference speed, with decoding", fmt::format("{:.2f} ms/image", r.total_ms_per_image));
  row("unreadable images (skipped)", std::to_string(r.unreadable_images));
  return fmt::format("<table class=\"summary\">\n{}</table>\n", rows);
}

std::string confusion_table(const BinaryMetrics& m, const std::vector<std::string>& names) {
  const std::string name0 = html_escape(names.size() > 0 ? names[0] : "class 0");
  const std::string name1 = html_escape(names.size() > 1 ? names[1] : "class 1");
  const auto cell = [](std::size_t count, bool correct) {
    return fmt::format("<td class=\"number {}\">{}</td>", correct ? "right" : "wrong", count);
  };
  return fmt::format(
      "<table class=\"confusion\">\n<tr><th>truth \\ prediction</th><th>{0}</th><th>{1}</th></tr>\n"
      "<tr><th>{0}</th>{2}{3}</tr>\n<tr><th>{1}</th>{4}{5}</tr>\n</table>\n",
      name0, name1, cell(m.true_negative, true), cell(m.false_positive, false), cell(m.false_negative, false),
      cell(m.true_positive, true));
}

std::string image_card(const ClassifierReportImage& image, const std::vector<std::string>& names) {
  const PredictionRow& row = image.row;
  const bool wrong = misclassified(row);
  std::string verdict;
  if (row.ground_truth) {
    verdict = wrong ? "<span class=\"badge wrong\">wrong</span>" : "<span class=\"badge right\">right</span>";
  }
  std::string pictures = fmt::format("<img src=\"{}\" alt=\"{}\" title=\"image\">", image.thumbnail_uri,
                                     html_escape(row.image));
  if (!image.heat_map_uri.empty()) {
    pictures += fmt::format("<img src=\"{}\" alt=\"Grad-CAM of {}\" title=\"Grad-CAM: where the evidence for '{}' is\">",
                            image.heat_map_uri, html_escape(row.image), html_escape(row.prediction));
  }
  const std::string positive = names.size() > 1 ? names[1] : "class 1";
  return fmt::format(
      "<figure class=\"card{}\">{}<figcaption><div class=\"name\">{}</div>"
      "<div>truth <b>{}</b> · predicted <b>{}</b> {}</div><div class=\"muted\">P({}) = {:.4f}</div>"
      "</figcaption></figure>\n",
      wrong ? " wrong" : "", pictures, html_escape(row.image), html_escape(row.ground_truth.value_or("?")),
      html_escape(row.prediction), verdict, html_escape(positive), row.probability);
}

constexpr const char* kCardStyle = R"(
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
figure.card { margin: 0; padding: 6px; border: 1px solid #d5dae0; border-radius: 4px; width: 272px; }
figure.card.wrong { border-color: #c62828; background: #fdecec; }
figure.card img { width: 128px; height: 128px; object-fit: contain; background: #f4f4f4; margin-right: 4px; }
figure.card .name { font-size: 12px; word-break: break-all; }
figcaption { font-size: 13px; margin-top: 4px; }
)";

}  // namespace

std::vector<std::size_t> report_order(const std::vector<ClassifierReportImage>& images, double threshold) {
  std::vector<std::size_t> order(images.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const bool wrong_a = misclassified(images[a].row), wrong_b = misclassified(images[b].row);
    if (wrong_a != wrong_b) return wrong_a;
    if (!wrong_a) return false;
    // Among errors: the further from the decision threshold, the more confidently wrong.
    return std::abs(images[a].row.probability - threshold) > std::abs(images[b].row.probability - threshold);
  });
  return order;
}

std::string format_classifier_report_html(const ClassifierReport& r) {
  std::string body = fmt::format("<h1>Cargo classifier: test report</h1>\n<p class=\"muted\">checkpoint {} ({}) · test folder {}</p>\n",
                                 html_escape(r.checkpoint), html_escape(r.backbone), html_escape(r.test_dir));
  body += "<h2>Summary</h2>\n" + summary_table(r);
  if (r.metrics) body += "<h2>Confusion matrix</h2>\n" + confusion_table(*r.metrics, r.class_names);
  const auto errors = static_cast<std::size_t>(
      std::count_if(r.images.begin(), r.images.end(), [](const auto& i) { return misclassified(i.row); }));
  const bool with_heat = std::any_of(r.images.begin(), r.images.end(), [](const auto& i) { return !i.heat_map_uri.empty(); });
  body += fmt::format("<h2>Images</h2>\n<p class=\"muted\">{} image(s){}; misclassified first ({}), the most confidently "
                      "wrong at the top.{}</p>\n<div class=\"cards\">\n",
                      r.images.size(), r.metrics ? "" : " (no ground truth: a flat folder)", errors,
                      with_heat ? " Right of each image: its Grad-CAM heat map on the backbone's last block, red where "
                                  "the evidence for the predicted class lies."
                                : "");
  for (std::size_t index : report_order(r.images, r.threshold)) body += image_card(r.images[index], r.class_names);
  body += "</div>\n";
  return report::html_document("Cargo classifier test report", kCardStyle, body);
}

}  // namespace cargovision
