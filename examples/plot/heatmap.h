// Heat maps: one or more panels of a matrix, a colour scale, labels that always fit.
// Attention weights (chapters 08, 13), masks (08), the positional encoding (09).
#pragma once

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "examples/plot/svg.h"

namespace qkv::plot {

struct HeatPanel {
  std::string title;                       // "layer 2 of 2, head 1 of 4"
  std::vector<std::vector<float>> values;  // [rows][columns]; -inf draws as "masked"
};

struct HeatmapStyle {
  std::vector<std::string> row_labels, col_labels;  // empty: indices every `label_every`
  int label_every = 1;
  double cell_w = 30, cell_h = 30;
  float lo = 0, hi = 1;    // the colour scale's range
  bool diverging = false;  // blue (lo) → white → red (hi), for signed values
  bool show_values = false;
  bool percent = false;  // hover text as "99.8%" (attention weights)
  std::string scale_label = "weight";
  std::vector<std::string> notes;  // lines under the panels
  size_t per_row = 0;              // panels side by side (0: as many as fit in max_width)
  double max_width = 900;
};

// Three significant digits: a value's last float bits (which differ between compilers that
// fuse multiply-adds differently) never reach the file.
inline std::string short_num(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", std::fabs(v) < 5e-4f ? 0.f : v);
  return buf;
}

inline std::string heatmap_svg(const std::vector<HeatPanel>& panels, const HeatmapStyle& st,
                               const std::string& title) {
  const size_t P = panels.size();
  const size_t R = P ? panels[0].values.size() : 0, C = R ? panels[0].values[0].size() : 0;
  auto label = [&](const std::vector<std::string>& given, size_t i) -> std::string {
    if (!given.empty()) return given[i];
    return i % static_cast<size_t>(std::max(1, st.label_every)) == 0 ? std::to_string(i) : "";
  };
  double row_w = 0, col_w = 0;
  for (size_t r = 0; r < R; ++r) row_w = std::max(row_w, text_width(label(st.row_labels, r), 13));
  for (size_t c = 0; c < C; ++c) col_w = std::max(col_w, text_width(label(st.col_labels, c), 13));
  // Column labels stand upright when they fit in a cell, else they are tilted by 60°.
  const bool tilt = col_w > st.cell_w - 2;
  const double label_w = row_w + 12, label_h = tilt ? col_w * 0.87 + 12 : 18;
  double title_w = 0;
  for (const auto& p : panels) title_w = std::max(title_w, text_width(p.title, 13));
  const double grid_w = static_cast<double>(C) * st.cell_w;
  const double gap = 28, panel_w = label_w + std::max(grid_w, title_w) + gap;
  const double panel_h = 22 + label_h + static_cast<double>(R) * st.cell_h + 18;
  const size_t per_row =
      st.per_row
          ? st.per_row
          : std::min<size_t>(P, std::max<size_t>(1, static_cast<size_t>(st.max_width / panel_w)));
  const size_t rows = (P + per_row - 1) / per_row;
  const double scale_x = 10 + static_cast<double>(per_row) * panel_w, top = 40;
  double notes_w = 0;
  for (const auto& n : st.notes) notes_w = std::max(notes_w, text_width(n, 11));
  const double W = std::ceil(std::max({scale_x + 90, text_width(title, 15) + 20, notes_w + 20}));
  const double H = std::ceil(top + static_cast<double>(rows) * panel_h +
                             16.0 * static_cast<double>(st.notes.size()) + 10);
  auto colour = [&](float v) {
    const float t = (v - st.lo) / (st.hi - st.lo);
    return st.diverging ? diverging_colour(2 * t - 1) : heat_colour(t);
  };

  std::ostringstream o;
  o << svg_open(W, H, 13);
  o << "<text x='10' y='24' font-size='15'>" << xml_escape(title) << "</text>\n";
  for (size_t p = 0; p < P; ++p) {
    const double x0 = 10 + static_cast<double>(p % per_row) * panel_w,
                 y0 = top + static_cast<double>(p / per_row) * panel_h;
    const double gx = x0 + label_w, gy = y0 + 22 + label_h;
    o << "<g>\n<text x='" << num(gx) << "' y='" << num(y0 + 14) << "' font-weight='bold'>"
      << xml_escape(panels[p].title) << "</text>\n";
    for (size_t c = 0; c < C; ++c) {
      const std::string l = label(st.col_labels, c);
      if (l.empty()) continue;
      if (tilt)
        o << "<text transform='translate(" << num(gx + (c + 0.5) * st.cell_w + 4) << ","
          << num(gy - 6) << ") rotate(-60)'>" << xml_escape(l) << "</text>\n";
      else
        o << "<text x='" << num(gx + (c + 0.5) * st.cell_w) << "' y='" << num(gy - 6)
          << "' text-anchor='middle'>" << xml_escape(l) << "</text>\n";
    }
    for (size_t r = 0; r < R; ++r) {
      const std::string l = label(st.row_labels, r);
      if (!l.empty())
        o << "<text x='" << num(gx - 6) << "' y='" << num(gy + (r + 0.5) * st.cell_h + 5)
          << "' text-anchor='end'>" << xml_escape(l) << "</text>\n";
      for (size_t c = 0; c < C; ++c) {
        const float v = panels[p].values[r][c];
        const bool masked = std::isinf(v) && v < 0;
        o << "<rect x='" << num(gx + c * st.cell_w) << "' y='" << num(gy + r * st.cell_h)
          << "' width='" << num(st.cell_w) << "' height='" << num(st.cell_h) << "' fill='"
          << (masked ? "#636363" : colour(v)) << "'><title>"
          << xml_escape(label(st.row_labels, r).empty() ? std::to_string(r)
                                                        : label(st.row_labels, r))
          << " → "
          << xml_escape(label(st.col_labels, c).empty() ? std::to_string(c)
                                                        : label(st.col_labels, c))
          << ": "
          << (masked       ? std::string("masked (-inf)")
              : st.percent ? num(100.0 * v) + "%"
                           : short_num(v))
          << "</title></rect>\n";
        if (st.show_values) {
          const float t = (v - st.lo) / (st.hi - st.lo);
          o << "<text x='" << num(gx + (c + 0.5) * st.cell_w) << "' y='"
            << num(gy + (r + 0.5) * st.cell_h + 4) << "' text-anchor='middle' font-size='11' fill='"
            << (masked || (!st.diverging && t > 0.6) ? "white" : "#222") << "'>"
            << (masked ? std::string("-inf") : short_num(v)) << "</text>\n";
        }
      }
    }
    o << "<rect x='" << num(gx) << "' y='" << num(gy) << "' width='" << num(grid_w) << "' height='"
      << num(static_cast<double>(R) * st.cell_h) << "' fill='none' stroke='#888'/>\n</g>\n";
  }
  // The colour scale: 40 steps from hi (top) to lo, five ticks.
  const double sy = top + 22 + label_h, sh = std::max(100.0, std::min(200.0, R * st.cell_h));
  for (int k = 0; k < 40; ++k) {
    const float v = st.hi - (st.hi - st.lo) * (k + 0.5f) / 40;
    o << "<rect x='" << num(scale_x) << "' y='" << num(sy + sh * k / 40) << "' width='14' height='"
      << num(sh / 40 + 0.5) << "' fill='" << colour(v) << "'/>\n";
  }
  o << "<rect x='" << num(scale_x) << "' y='" << num(sy) << "' width='14' height='" << num(sh)
    << "' fill='none' stroke='#888'/>\n";
  for (int k = 0; k <= 4; ++k) {
    const double v = st.hi - (st.hi - st.lo) * k / 4.0;
    o << "<text x='" << num(scale_x + 18) << "' y='" << num(sy + sh * k / 4 + 4)
      << "' font-size='11'>" << tick_label(std::fabs(v) < 1e-9 ? 0 : v) << "</text>\n";
  }
  o << "<text x='" << num(scale_x) << "' y='" << num(sy - 8) << "' font-size='11'>"
    << xml_escape(st.scale_label) << "</text>\n";
  for (size_t n = 0; n < st.notes.size(); ++n)
    o << "<text x='10' y='" << num(H - 10 - 16.0 * (st.notes.size() - 1 - n))
      << "' font-size='11' fill='#555'>" << xml_escape(st.notes[n]) << "</text>\n";
  o << svg_close();
  return o.str();
}

// Cross-attention weights[panel][t][s]: target token t (row) over source token s (column),
// each row a distribution; panel_titles name the panels ("layer 2 of 2, head 1 of 4", "mean").
inline std::string attention_svg(const std::vector<std::vector<std::vector<float>>>& weights,
                                 const std::vector<std::string>& src_labels,
                                 const std::vector<std::string>& tgt_labels,
                                 const std::vector<std::string>& panel_titles,
                                 const std::string& title) {
  std::vector<HeatPanel> panels;
  for (size_t p = 0; p < weights.size(); ++p) panels.push_back({panel_titles[p], weights[p]});
  HeatmapStyle st;
  st.row_labels = tgt_labels;
  st.col_labels = src_labels;
  st.scale_label = "weight";
  st.percent = true;
  st.max_width = 1300;
  st.notes = {
      "rows: each output token; columns: the source tokens it attends to (darker = "
      "more weight; each row sums to 1)"};
  return heatmap_svg(panels, st, title);
}

}  // namespace qkv::plot
