// Horizontal bar charts: one labelled bar per item, its value written at the end (the time
// profile per op of chapter 14).
#pragma once

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "examples/plot/svg.h"

namespace qkv::plot {

struct Bar {
  std::string label;  // left of the bar
  double value = 0;
  std::string text;  // right of the bar ("12.3 ms, 31 %")
  std::string colour = "#4292c6";
};

inline std::string bar_chart_svg(const std::vector<Bar>& bars, const std::string& value_label,
                                 const std::string& title,
                                 const std::vector<std::string>& notes = {}) {
  double label_w = 0, text_w = 0, vmax = 0, notes_w = 0;
  for (const auto& b : bars) {
    label_w = std::max(label_w, text_width(b.label, 12));
    text_w = std::max(text_w, text_width(b.text, 11));
    vmax = std::max(vmax, b.value);
  }
  for (const auto& n : notes) notes_w = std::max(notes_w, text_width(n, 11));
  if (vmax <= 0) vmax = 1;
  const double bar_h = 18, gap = 6, top = 44, left = label_w + 20, plot_w = 460;
  const double W =
      std::ceil(std::max({left + plot_w + text_w + 30, text_width(title, 15) + 20, notes_w + 20}));
  const double plot_h = static_cast<double>(bars.size()) * (bar_h + gap);
  const double H = std::ceil(top + plot_h + 44 + 16.0 * notes.size());
  const double step = tick_step(vmax, 5);
  const double hi = std::ceil(vmax / step) * step;
  std::ostringstream o;
  o << svg_open(W, H);
  o << "<text x='10' y='24' font-size='15'>" << xml_escape(title) << "</text>\n";
  for (double v = 0; v <= hi + 1e-9; v += step) {
    const double x = left + plot_w * v / hi;
    o << "<line x1='" << num(x) << "' x2='" << num(x) << "' y1='" << num(top - 4) << "' y2='"
      << num(top + plot_h) << "' stroke='#e5e5e5'/>\n<text x='" << num(x) << "' y='"
      << num(top + plot_h + 16) << "' text-anchor='middle' font-size='11'>" << tick_label(v)
      << "</text>\n";
  }
  for (size_t i = 0; i < bars.size(); ++i) {
    const double y = top + static_cast<double>(i) * (bar_h + gap), w = plot_w * bars[i].value / hi;
    o << "<text x='" << num(left - 8) << "' y='" << num(y + 13) << "' text-anchor='end'>"
      << xml_escape(bars[i].label) << "</text>\n<rect x='" << num(left) << "' y='" << num(y)
      << "' width='" << num(w) << "' height='" << num(bar_h) << "' fill='" << bars[i].colour
      << "'/>\n<text x='" << num(left + w + 6) << "' y='" << num(y + 13)
      << "' font-size='11' fill='#333'>" << xml_escape(bars[i].text) << "</text>\n";
  }
  o << "<text x='" << num(left + plot_w / 2) << "' y='" << num(top + plot_h + 34)
    << "' text-anchor='middle'>" << xml_escape(value_label) << "</text>\n";
  o << notes_svg(notes, H);
  o << svg_close();
  return o.str();
}

}  // namespace qkv::plot
