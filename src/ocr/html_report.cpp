#include "cargovision/ocr/html_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "cargovision/ocr/text.h"
#include "cargovision/report/html.h"
#include "cargovision/report/text_diff.h"

namespace cargovision::ocr {
namespace {

using report::html_escape;

bool scored(const OcrReportCrop& crop) { return crop.ground_truth.has_value(); }
bool wrong(const OcrReportCrop& crop) { return scored(crop) && !crop.correct; }

std::string escaped(char32_t c) { return html_escape(encode_utf8(std::u32string(1, c))); }

constexpr const char* kStyle = R"(
table.crops img.original { max-height: 48px; max-width: 240px; }
table.crops img.input { width: 200px; height: 64px; image-rendering: pixelated; border: 1px solid #d5dae0; }
td.code { font-family: "DejaVu Sans Mono", monospace; font-size: 15px; white-space: pre; }
span.sub { background: #ffcdd2; color: #b71c1c; font-weight: 700; }
span.missing { background: #ffe0b2; color: #e65100; font-weight: 700; text-decoration: underline; }
span.extra { background: #ffcdd2; color: #b71c1c; text-decoration: line-through; }
)";

std::string percent(std::size_t part, std::size_t whole) {
  return whole == 0 ? "-" : fmt::format("{:.2f} %", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

}  // namespace

const std::vector<double>& default_confidence_thresholds() {
  static const std::vector<double> thresholds{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99};
  return thresholds;
}

std::vector<ConfidenceBand> confidence_table(const std::vector<OcrReportCrop>& crops, const std::vector<double>& thresholds) {
  std::vector<ConfidenceBand> bands;
  for (double threshold : thresholds) {
    ConfidenceBand band;
    band.threshold = threshold;
    for (const auto& crop : crops) {
      if (!scored(crop)) continue;
      if (crop.confidence >= threshold) {
        ++band.accepted;
        band.accepted_errors += crop.correct ? 0 : 1;
      } else {
        ++band.routed;
        band.routed_errors += crop.correct ? 0 : 1;
      }
    }
    bands.push_back(band);
  }
  return bands;
}

std::vector<std::size_t> report_order(const std::vector<OcrReportCrop>& crops) {
  std::vector<std::size_t> order(crops.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (wrong(crops[a]) != wrong(crops[b])) return wrong(crops[a]);
    return wrong(crops[a]) && crops[a].confidence > crops[b].confidence;
  });
  return order;
}

HighlightedPair highlight_differences(const std::string& compared_prediction, const std::string& compared_ground_truth) {
  HighlightedPair out;
  const auto steps = report::diff_characters(decode_utf8(compared_prediction, "prediction"),
                                             decode_utf8(compared_ground_truth, "ground truth"));
  for (const auto& step : steps) {
    switch (step.kind) {
      case report::DiffKind::kMatch:
        out.ground_truth += escaped(step.expected);
        out.prediction += escaped(step.predicted);
        break;
      case report::DiffKind::kSubstitute:
        out.ground_truth += "<span class=\"sub\">" + escaped(step.expected) + "</span>";
        out.prediction += "<span class=\"sub\">" + escaped(step.predicted) + "</span>";
        break;
      case report::DiffKind::kMissing:
        out.ground_truth += "<span class=\"missing\">" + escaped(step.expected) + "</span>";
        break;
      case report::DiffKind::kExtra:
        out.prediction += "<span class=\"extra\">" + escaped(step.predicted) + "</span>";
        break;
    }
  }
  return out;
}

std::string format_ocr_report_html(const OcrReport& r) {
  const auto with_truth = static_cast<std::size_t>(std::count_if(r.crops.begin(), r.crops.end(), scored));
  const auto errors = static_cast<std::size_t>(std::count_if(r.crops.begin(), r.crops.end(), wrong));
  double norm_ed_sum = 0;
  for (const auto& crop : r.crops) norm_ed_sum += scored(crop) ? crop.norm_ED : 0.0;

  std::string body = fmt::format("<h1>Code recognizer: demo report</h1>\n<p class=\"muted\">model {} ({}) · crops from {}</p>\n",
                                 html_escape(r.saved_model), html_escape(r.model_description), html_escape(r.source));
  body += "<h2>Summary</h2>\n<table class=\"summary\">\n";
  const auto row = [&](const std::string& name, const std::string& value) {
    body += fmt::format("<tr><td>{}</td><td class=\"number\">{}</td></tr>\n", html_escape(name), html_escape(value));
  };
  row("crops read", std::to_string(r.crops.size()));
  row("with ground truth", std::to_string(with_truth));
  if (with_truth > 0) {
    row("word accuracy", fmt::format("{} ({}/{})", percent(with_truth - errors, with_truth), with_truth - errors, with_truth));
    row("norm_ED (mean)", fmt::format("{:.4f}", norm_ed_sum / static_cast<double>(with_truth)));
  }
  row("model time", fmt::format("{:.2f} ms/crop", r.ms_per_image));
  row("unreadable files (skipped)", std::to_string(r.unreadable));
  body += "</table>\n";

  if (with_truth > 0) {
    body += "<h2>Confidence and errors</h2>\n<p class=\"muted\">Accept the codes read with at least the threshold's "
            "confidence, send the rest to a person: how many errors each choice lets through.</p>\n"
            "<table class=\"confidence\">\n<tr><th class=\"number\">confidence &ge;</th><th class=\"number\">accepted</th>"
            "<th class=\"number\">errors accepted</th><th class=\"number\">error rate accepted</th>"
            "<th class=\"number\">to a person</th><th class=\"number\">errors among them</th></tr>\n";
    for (const auto& band : confidence_table(r.crops, default_confidence_thresholds())) {
      body += fmt::format("<tr><td class=\"number\">{:g}</td><td class=\"number\">{}</td><td class=\"number\">{}</td>"
                          "<td class=\"number\">{}</td><td class=\"number\">{}</td><td class=\"number\">{}</td></tr>\n",
                          band.threshold, band.accepted, band.accepted_errors, percent(band.accepted_errors, band.accepted),
                          band.routed, band.routed_errors);
    }
    body += "</table>\n";
  }

  body += fmt::format("<h2>Crops</h2>\n<p class=\"muted\">Errors first ({}), the most confident at the top. "
                      "<span class=\"sub\">X</span> a wrong character, <span class=\"missing\">X</span> a missed one, "
                      "<span class=\"extra\">X</span> one too many.</p>\n"
                      "<table class=\"crops\">\n<tr><th>crop</th><th>as read</th><th>model input</th><th>ground truth</th>"
                      "<th>prediction</th><th class=\"number\">confidence</th><th></th></tr>\n",
                      errors);
  for (std::size_t index : report_order(r.crops)) {
    const OcrReportCrop& crop = r.crops[index];
    std::string truth_cell = "<span class=\"muted\">-</span>", prediction_cell = html_escape(crop.prediction), verdict;
    if (scored(crop)) {
      const HighlightedPair pair = highlight_differences(crop.compared_prediction, crop.compared_ground_truth);
      truth_cell = pair.ground_truth;
      prediction_cell = pair.prediction;
      // The scoring compared other forms than the raw strings (case or filtering): show what was read too.
      if (crop.compared_prediction != crop.prediction) {
        prediction_cell += fmt::format("<div class=\"muted\">read: {}</div>", html_escape(crop.prediction));
      }
      verdict = crop.correct ? "<span class=\"badge right\">right</span>" : "<span class=\"badge wrong\">wrong</span>";
    }
    body += fmt::format("<tr class=\"{}\"><td>{}</td><td><img class=\"original\" src=\"{}\" alt=\"{}\"></td>"
                        "<td><img class=\"input\" src=\"{}\" alt=\"model input\"></td><td class=\"code\">{}</td>"
                        "<td class=\"code\">{}</td><td class=\"number\">{:.4f}</td><td>{}</td></tr>\n",
                        !scored(crop) ? "" : crop.correct ? "right" : "wrong", html_escape(crop.name), crop.original_uri,
                        html_escape(crop.name), crop.model_input_uri, truth_cell, prediction_cell, crop.confidence, verdict);
  }
  body += "</table>\n";
  return report::html_document("Code recognizer demo report", kStyle, body);
}

}  // namespace cargovision::ocr
