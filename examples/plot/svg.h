// qkv's own small SVG writer (header-only, so that the chapter programs, which are single
// files linked with libqkv, and the translator apps can both use it): the loss curve and the
// attention heat map. Plain text, no scripts, no external fonts or images: open them in a
// browser.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace qkv::plot {

// Fonts that have Chinese characters, tried in order, then any sans-serif.
inline const char kSvgFonts[] =
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Hiragino Sans GB', "
    "'Microsoft YaHei', 'WenQuanYi Micro Hei', 'Droid Sans Fallback', sans-serif";

inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// "Nice" tick spacing: 1, 2 or 5 × 10^k, about `count` ticks over [0, hi].
inline double tick_step(double hi, int count) {
  const double raw = hi / count, p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw) return m * p;
  return 10 * p;
}

inline std::string tick_label(double v) {
  char buf[32];
  if (v == 0) return "0";
  if (std::fabs(v) < 0.01 || std::fabs(v) >= 1e5)
    std::snprintf(buf, sizeof buf, "%.0e", v);
  else
    std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// White → blue → dark blue for a weight in [0, 1].
inline std::string heat_colour(float w) {
  w = std::min(1.f, std::max(0.f, w));
  const float stops[3][3] = {{255, 255, 255}, {66, 146, 198}, {8, 29, 88}};
  const float x = w * 2.f;
  const int i = std::min(1, static_cast<int>(x));
  const float f = x - static_cast<float>(i);
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x",
                static_cast<int>(stops[i][0] + f * (stops[i + 1][0] - stops[i][0])),
                static_cast<int>(stops[i][1] + f * (stops[i + 1][1] - stops[i][1])),
                static_cast<int>(stops[i][2] + f * (stops[i + 1][2] - stops[i][2])));
  return buf;
}

inline std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

inline std::string loss_curve_svg(const std::vector<float>& losses, const std::vector<float>& lrs,
                                  const std::string& title) {
  const double W = 760, H = 400, left = 64, right = lrs.empty() ? 24 : 80, top = 44, bottom = 52;
  const double pw = W - left - right, ph = H - top - bottom;
  const size_t n = losses.size();
  double ymax = 0;
  for (float l : losses)
    if (std::isfinite(l)) ymax = std::max(ymax, static_cast<double>(l));
  if (ymax <= 0) ymax = 1;
  const double ystep = tick_step(ymax, 5);
  ymax = std::ceil(ymax / ystep) * ystep;
  const double xmax = std::max<double>(1, static_cast<double>(n));
  auto X = [&](double step) { return left + pw * step / xmax; };
  auto Y = [&](double v) { return top + ph * (1 - v / ymax); };

  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H
    << "' viewBox='0 0 " << W << " " << H << "' font-family=\"" << kSvgFonts
    << "\" font-size='12'>\n";
  o << "<rect width='100%' height='100%' fill='white'/>\n";
  o << "<text x='" << W / 2 << "' y='24' text-anchor='middle' font-size='15'>" << xml_escape(title)
    << "</text>\n";
  // Grid and y ticks (loss).
  for (double v = 0; v <= ymax + 1e-9; v += ystep) {
    o << "<line x1='" << left << "' x2='" << left + pw << "' y1='" << num(Y(v)) << "' y2='"
      << num(Y(v)) << "' stroke='#e5e5e5'/>\n";
    o << "<text x='" << left - 6 << "' y='" << num(Y(v) + 4) << "' text-anchor='end'>"
      << tick_label(v) << "</text>\n";
  }
  const double xstep = tick_step(xmax, 6);
  for (double s = 0; s <= xmax + 1e-9; s += xstep)
    o << "<text x='" << num(X(s)) << "' y='" << top + ph + 18 << "' text-anchor='middle'>"
      << tick_label(s) << "</text>\n";
  o << "<rect x='" << left << "' y='" << top << "' width='" << pw << "' height='" << ph
    << "' fill='none' stroke='#444'/>\n";
  o << "<text x='" << left + pw / 2 << "' y='" << H - 12 << "' text-anchor='middle'>step</text>\n";
  o << "<text transform='translate(16," << top + ph / 2
    << ") rotate(-90)' text-anchor='middle' fill='#1f4e9a'>"
       "training loss</text>\n";
  // Raw loss, at most ~1500 points (each the mean of its bucket), then a moving average.
  const size_t bucket = std::max<size_t>(1, n / 1500);
  o << "<polyline fill='none' stroke='#9ecae1' stroke-width='1' points='";
  for (size_t i = 0; i < n; i += bucket) {
    double sum = 0;
    size_t k = 0;
    for (; k < bucket && i + k < n; ++k) sum += losses[i + k];
    o << num(X(static_cast<double>(i + k))) << ","
      << num(Y(std::min(ymax, sum / static_cast<double>(k)))) << " ";
  }
  o << "'/>\n";
  const size_t window = std::max<size_t>(1, n / 40);
  o << "<polyline fill='none' stroke='#1f4e9a' stroke-width='2' points='";
  double run = 0;
  for (size_t i = 0; i < n; ++i) {
    run += losses[i];
    if (i >= window) run -= losses[i - window];
    const size_t count = std::min(i + 1, window);
    if (i % bucket == 0 || i + 1 == n)
      o << num(X(static_cast<double>(i + 1))) << "," << num(Y(run / static_cast<double>(count)))
        << " ";
  }
  o << "'/>\n";
  if (!lrs.empty()) {
    const double lmax = *std::max_element(lrs.begin(), lrs.end());
    if (lmax > 0) {
      auto YL = [&](double v) { return top + ph * (1 - v / (lmax * 1.1)); };
      o << "<polyline fill='none' stroke='#e6550d' stroke-width='1.5' stroke-dasharray='5,3' "
           "points='";
      for (size_t i = 0; i < lrs.size(); i += bucket)
        o << num(X(static_cast<double>(i + 1))) << "," << num(YL(lrs[i])) << " ";
      o << "'/>\n";
      const double lstep = tick_step(lmax * 1.1, 4);
      for (double v = 0; v <= lmax * 1.1 + 1e-12; v += lstep)
        o << "<text x='" << left + pw + 6 << "' y='" << num(YL(v) + 4) << "' fill='#e6550d'>"
          << tick_label(v) << "</text>\n";
      o << "<text transform='translate(" << W - 12 << "," << top + ph / 2
        << ") rotate(90)' text-anchor='middle' fill='#e6550d'>learning rate (dashed)</text>\n";
    }
  }
  o << "</svg>\n";
  return o.str();
}

inline std::string attention_svg(const std::vector<std::vector<std::vector<float>>>& weights,
                                 const std::vector<std::string>& src_labels,
                                 const std::vector<std::string>& tgt_labels,
                                 const std::vector<std::string>& panel_titles,
                                 const std::string& title) {
  const size_t P = weights.size(), T = tgt_labels.size(), S = src_labels.size();
  const double cell = 30, label_w = 64, label_h = 70, gap = 28, top = 40;
  const size_t per_row = std::min<size_t>(
      P, std::max<size_t>(1, static_cast<size_t>(900 / (S * cell + label_w + gap))));
  const double panel_w = label_w + S * cell + gap, panel_h = 22 + label_h + T * cell + gap;
  const size_t rows = (P + per_row - 1) / per_row;
  const double W = std::max(320.0, per_row * panel_w + 10), H = top + rows * panel_h + 30;

  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << W << "' height='" << H
    << "' viewBox='0 0 " << W << " " << H << "' font-family=\"" << kSvgFonts
    << "\" font-size='13'>\n";
  o << "<rect width='100%' height='100%' fill='white'/>\n";
  o << "<text x='10' y='24' font-size='15'>" << xml_escape(title) << "</text>\n";
  for (size_t p = 0; p < P; ++p) {
    const double x0 = 10 + static_cast<double>(p % per_row) * panel_w,
                 y0 = top + static_cast<double>(p / per_row) * panel_h;
    const double gx = x0 + label_w, gy = y0 + 22 + label_h;
    o << "<g>\n<text x='" << gx << "' y='" << y0 + 14 << "' font-weight='bold'>"
      << xml_escape(panel_titles[p]) << "</text>\n";
    // Source tokens across the top, tilted so that long words fit.
    for (size_t s = 0; s < S; ++s)
      o << "<text transform='translate(" << num(gx + (s + 0.5) * cell + 4) << "," << num(gy - 6)
        << ") rotate(-60)'>" << xml_escape(src_labels[s]) << "</text>\n";
    for (size_t t = 0; t < T; ++t) {
      o << "<text x='" << gx - 6 << "' y='" << num(gy + (t + 0.5) * cell + 5)
        << "' text-anchor='end'>" << xml_escape(tgt_labels[t]) << "</text>\n";
      for (size_t s = 0; s < S; ++s) {
        const float w = weights[p][t][s];
        o << "<rect x='" << num(gx + s * cell) << "' y='" << num(gy + t * cell) << "' width='"
          << cell << "' height='" << cell << "' fill='" << heat_colour(w) << "'><title>"
          << xml_escape(tgt_labels[t]) << " → " << xml_escape(src_labels[s]) << ": "
          << num(100.0 * w) << "%</title></rect>\n";
      }
    }
    o << "<rect x='" << gx << "' y='" << gy << "' width='" << S * cell << "' height='" << T * cell
      << "' fill='none' stroke='#888'/>\n</g>\n";
  }
  o << "<text x='10' y='" << H - 10
    << "' font-size='11' fill='#555'>rows: each output token; columns: the source tokens it "
       "attends to "
       "(darker = more weight; each row sums to 1)</text>\n";
  o << "</svg>\n";
  return o.str();
}

}  // namespace qkv::plot
