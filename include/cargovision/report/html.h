#pragma once
// Building blocks of the self-contained HTML reports (test's and demo_ocr's report.html): escaping,
// images inlined as data URIs (so one file opens offline and can be mailed), and the page frame with
// the shared style sheet and a self-check a headless browser can read back.

#include <opencv2/core.hpp>

#include <string>
#include <string_view>

namespace cargovision::report {

std::string html_escape(std::string_view text);

std::string base64_encode(std::string_view bytes);

// Scales the image down (never up) so that its longer side is at most max_side pixels.
cv::Mat fit_within(const cv::Mat& image, int max_side);

// "data:image/jpeg;base64,..." of a BGR or grey 8-bit image. JPEG keeps a thousand thumbnails at a few
// megabytes; PNG is for small images whose pixels must stay exact (a recognizer's 32x100 input).
std::string jpeg_data_uri(const cv::Mat& image, int quality = 80);
std::string png_data_uri(const cv::Mat& image);

// A complete page: title, the shared style sheet, the body, and a script that, once the page has
// loaded, writes on <body> data-images-broken (images that failed to load), data-script-errors and
// data-report-ready="1". A browser check (tests/cli/report_in_browser.sh) reads these back.
std::string html_document(std::string_view title, std::string_view extra_style, std::string_view body);

}  // namespace cargovision::report
