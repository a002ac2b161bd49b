// qkv's own small SVG writer, the shared pieces: fonts, numbers, ticks, colours, text width.
// Header-only, so that the chapter programs (single files linked with libqkv) and the
// translator apps can both use it without a library of their own; it sits in examples/
// because only programs draw. The charts: heatmap.h, line_chart.h, bar_chart.h, diagram.h.
// Plain text, no scripts, no external fonts or images: open them in a browser.
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

inline std::string rgb(float r, float g, float b) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", static_cast<int>(r), static_cast<int>(g),
                static_cast<int>(b));
  return buf;
}

// Blue → white → red for a value in [-1, 1] (signed data: encodings, differences).
inline std::string diverging_colour(float v) {
  v = std::min(1.f, std::max(-1.f, v));
  const float a = std::fabs(v);
  return v < 0 ? rgb(255 - a * (255 - 33), 255 - a * (255 - 102), 255 - a * (255 - 172))
               : rgb(255 - a * (255 - 178), 255 - a * (255 - 24), 255 - a * (255 - 43));
}

// Roughly how wide `s` is at font size `px`: Latin letters ~0.6 em, CJK characters 1 em.
// Layouts use it so that titles and labels are never cut off.
inline double text_width(const std::string& s, double px) {
  double w = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;
    w += c >= 0xE0 ? 1.0 : c >= 0x80 ? 0.65 : (c == ' ' ? 0.3 : 0.6);
  }
  return w * px;
}

// The opening tag (white background) and the closing tag of every figure.
inline std::string svg_open(double w, double h, int font_size = 12) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "width='%.0f' height='%.0f' viewBox='0 0 %.0f %.0f'", w, h, w, h);
  return std::string("<svg xmlns='http://www.w3.org/2000/svg' ") + buf + " font-family=\"" +
         kSvgFonts + "\" font-size='" + std::to_string(font_size) +
         "'>\n<rect width='100%' height='100%' fill='white'/>\n";
}
inline std::string svg_close() { return "</svg>\n"; }

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

// Lines of small grey text under a chart, the last one 10 px above its bottom edge `H`.
inline std::string notes_svg(const std::vector<std::string>& notes, double H) {
  std::ostringstream o;
  for (size_t n = 0; n < notes.size(); ++n)
    o << "<text x='10' y='" << num(H - 10 - 16.0 * (notes.size() - 1 - n))
      << "' font-size='11' fill='#555'>" << xml_escape(notes[n]) << "</text>\n";
  return o.str();
}

}  // namespace qkv::plot
