#include "cargovision/report/html.h"

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cargovision/core/error.h"

namespace cargovision::report {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto b0 = static_cast<unsigned char>(bytes[i]), b1 = static_cast<unsigned char>(bytes[i + 1]),
               b2 = static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[b0 >> 2];
    out += kAlphabet[((b0 & 0x03) << 4) | (b1 >> 4)];
    out += kAlphabet[((b1 & 0x0f) << 2) | (b2 >> 6)];
    out += kAlphabet[b2 & 0x3f];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    const auto b0 = static_cast<unsigned char>(bytes[i]);
    const auto b1 = rest == 2 ? static_cast<unsigned char>(bytes[i + 1]) : 0;
    out += kAlphabet[b0 >> 2];
    out += kAlphabet[((b0 & 0x03) << 4) | (b1 >> 4)];
    out += rest == 2 ? kAlphabet[(b1 & 0x0f) << 2] : '=';
    out += '=';
  }
  return out;
}

cv::Mat fit_within(const cv::Mat& image, int max_side) {
  require(!image.empty(), "cannot make a thumbnail of an empty image");
  require(max_side > 0, "thumbnail size must be positive, got {}", max_side);
  const int longer = std::max(image.cols, image.rows);
  if (longer <= max_side) return image;
  const double scale = static_cast<double>(max_side) / longer;
  const cv::Size size(std::max(1, static_cast<int>(std::lround(image.cols * scale))),
                      std::max(1, static_cast<int>(std::lround(image.rows * scale))));
  cv::Mat small;
  cv::resize(image, small, size, 0, 0, cv::INTER_AREA);
  return small;
}

namespace {

std::string encoded_uri(const cv::Mat& image, const char* extension, const char* mime, const std::vector<int>& params) {
  require(!image.empty(), "cannot inline an empty image");
  require(image.depth() == CV_8U && (image.channels() == 1 || image.channels() == 3),
          "inlined images must be 8-bit grey or BGR, got type {}", image.type());
  std::vector<uchar> encoded;
  require(cv::imencode(extension, image, encoded, params), "could not encode an image as {}", extension);
  return fmt::format("data:{};base64,{}", mime,
                     base64_encode(std::string_view(reinterpret_cast<const char*>(encoded.data()), encoded.size())));
}

// Shared by every page: a plain, printable layout that reads well without any external resource.
constexpr const char* kStyle = R"(
body { font-family: -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 24px; color: #1d232a; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.muted { color: #67707a; font-size: 13px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #d5dae0; padding: 4px 8px; text-align: left; vertical-align: middle; }
th { background: #f1f3f5; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; }
.summary td:first-child { font-weight: 600; }
.wrong { background: #fdecec; } .right { background: #eef8f0; }
.badge { display: inline-block; padding: 1px 6px; border-radius: 3px; font-size: 12px; color: #fff; }
.badge.wrong { background: #c62828; } .badge.right { background: #2e7d32; }
img { image-rendering: auto; }
)";

// Counts images that did not load and script errors, for a headless browser to read off the DOM.
constexpr const char* kSelfCheck = R"(
<script>
(function () {
  var errors = 0;
  // Script errors only: an image that fails to load fires a plain Event, counted below.
  window.addEventListener('error', function (event) { if (event instanceof ErrorEvent) errors += 1; }, true);
  window.addEventListener('load', function () {
    var broken = 0;
    Array.prototype.forEach.call(document.images, function (img) {
      if (!img.complete || img.naturalWidth === 0) broken += 1;
    });
    document.body.setAttribute('data-images', String(document.images.length));
    document.body.setAttribute('data-images-broken', String(broken));
    document.body.setAttribute('data-script-errors', String(errors));
    document.body.setAttribute('data-report-ready', '1');
  });
})();
</script>
)";

}  // namespace

std::string jpeg_data_uri(const cv::Mat& image, int quality) {
  return encoded_uri(image, ".jpg", "image/jpeg", {cv::IMWRITE_JPEG_QUALITY, quality});
}

std::string png_data_uri(const cv::Mat& image) { return encoded_uri(image, ".png", "image/png", {}); }

std::string html_document(std::string_view title, std::string_view extra_style, std::string_view body) {
  return fmt::format("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n"
                     "<style>{}{}</style>\n{}</head>\n<body>\n{}\n</body>\n</html>\n",
                     html_escape(title), kStyle, extra_style, kSelfCheck, body);
}

}  // namespace cargovision::report
