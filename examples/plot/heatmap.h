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

namespace heatmap_detail {

// Row or column i's label: the given one, else its index every `label_every`.
inline std::string label(const HeatmapStyle& st, const std::vector<std::string>& given, size_t i) {
  if (!given.empty()) return given[i];
  return i % static_cast<size_t>(std::max(1, st.label_every)) == 0 ? std::to_string(i) : "";
}

// Where everything goes: room for the labels, each panel's size, panels per row, the canvas.
struct Layout {
  size_t P, R, C, per_row;
  bool tilt;  // column labels tilted by 60° because they do not fit upright in a cell
  double label_w, label_h, grid_w, panel_w, panel_h, top, scale_x, W, H;
};

inline Layout layout(const std::vector<HeatPanel>& panels, const HeatmapStyle& st,
                     const std::string& title) {
  Layout L;
  L.P = panels.size();
  L.R = L.P ? panels[0].values.size() : 0, L.C = L.R ? panels[0].values[0].size() : 0;
  double row_w = 0, col_w = 0;
  for (size_t r = 0; r < L.R; ++r)
    row_w = std::max(row_w, text_width(label(st, st.row_labels, r), 13));
  for (size_t c = 0; c < L.C; ++c)
    col_w = std::max(col_w, text_width(label(st, st.col_labels, c), 13));
  L.tilt = col_w > st.cell_w - 2;
  L.label_w = row_w + 12, L.label_h = L.tilt ? col_w * 0.87 + 12 : 18;
  double title_w = 0;
  for (const auto& p : panels) title_w = std::max(title_w, text_width(p.title, 13));
  L.grid_w = static_cast<double>(L.C) * st.cell_w;
  const double gap = 28;
  L.panel_w = L.label_w + std::max(L.grid_w, title_w) + gap;
  L.panel_h = 22 + L.label_h + static_cast<double>(L.R) * st.cell_h + 18;
  L.per_row = st.per_row
                  ? st.per_row
                  : std::min<size_t>(
                        L.P, std::max<size_t>(1, static_cast<size_t>(st.max_width / L.panel_w)));
  const size_t rows = (L.P + L.per_row - 1) / L.per_row;
  L.scale_x = 10 + static_cast<double>(L.per_row) * L.panel_w, L.top = 40;
  double notes_w = 0;
  for (const auto& n : st.notes) notes_w = std::max(notes_w, text_width(n, 11));
  L.W = std::ceil(std::max({L.scale_x + 90, text_width(title, 15) + 20, notes_w + 20}));
  L.H = std::ceil(L.top + static_cast<double>(rows) * L.panel_h +
                  16.0 * static_cast<double>(st.notes.size()) + 10);
  return L;
}

inline std::string colour(const HeatmapStyle& st, float v) {
  const float t = (v - st.lo) / (st.hi - st.lo);
  return st.diverging ? diverging_colour(2 * t - 1) : heat_colour(t);
}

// Column labels above the grid whose top left corner is (gx, gy).
inline void column_labels(std::ostream& o, const Layout& L, const HeatmapStyle& st, double gx,
                          double gy) {
  for (size_t c = 0; c < L.C; ++c) {
    const std::string l = label(st, st.col_labels, c);
    if (l.empty()) continue;
    if (L.tilt)
      o << "<text transform='translate(" << num(gx + (c + 0.5) * st.cell_w + 4) << ","
        << num(gy - 6) << ") rotate(-60)'>" << xml_escape(l) << "</text>\n";
    else
      o << "<text x='" << num(gx + (c + 0.5) * st.cell_w) << "' y='" << num(gy - 6)
        << "' text-anchor='middle'>" << xml_escape(l) << "</text>\n";
  }
}

// Cell (r, c): its colour, hover text "row → column: value", and the value when asked.
inline void cell(std::ostream& o, const HeatmapStyle& st, float v, size_t r, size_t c, double gx,
                 double gy) {
  const bool masked = std::isinf(v) && v < 0;
  o << "<rect x='" << num(gx + c * st.cell_w) << "' y='" << num(gy + r * st.cell_h) << "' width='"
    << num(st.cell_w) << "' height='" << num(st.cell_h) << "' fill='"
    << (masked ? "#636363" : colour(st, v)) << "'><title>"
    << xml_escape(label(st, st.row_labels, r).empty() ? std::to_string(r)
                                                      : label(st, st.row_labels, r))
    << " → "
    << xml_escape(label(st, st.col_labels, c).empty() ? std::to_string(c)
                                                      : label(st, st.col_labels, c))
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

// Panel p in its place on the grid of panels: title, column labels, rows of cells, a frame.
inline void panel(std::ostream& o, const Layout& L, const HeatmapStyle& st, const HeatPanel& hp,
                  size_t p) {
  const double x0 = 10 + static_cast<double>(p % L.per_row) * L.panel_w,
               y0 = L.top + static_cast<double>(p / L.per_row) * L.panel_h;
  const double gx = x0 + L.label_w, gy = y0 + 22 + L.label_h;
  o << "<g>\n<text x='" << num(gx) << "' y='" << num(y0 + 14) << "' font-weight='bold'>"
    << xml_escape(hp.title) << "</text>\n";
  column_labels(o, L, st, gx, gy);
  for (size_t r = 0; r < L.R; ++r) {
    const std::string l = label(st, st.row_labels, r);
    if (!l.empty())
      o << "<text x='" << num(gx - 6) << "' y='" << num(gy + (r + 0.5) * st.cell_h + 5)
        << "' text-anchor='end'>" << xml_escape(l) << "</text>\n";
    for (size_t c = 0; c < L.C; ++c) cell(o, st, hp.values[r][c], r, c, gx, gy);
  }
  o << "<rect x='" << num(gx) << "' y='" << num(gy) << "' width='" << num(L.grid_w) << "' height='"
    << num(static_cast<double>(L.R) * st.cell_h) << "' fill='none' stroke='#888'/>\n</g>\n";
}

// The colour scale right of the panels: 40 steps from hi (top) to lo, five ticks.
inline void colour_scale(std::ostream& o, const Layout& L, const HeatmapStyle& st) {
  const double sy = L.top + 22 + L.label_h, sh = std::max(100.0, std::min(200.0, L.R * st.cell_h));
  for (int k = 0; k < 40; ++k) {
    const float v = st.hi - (st.hi - st.lo) * (k + 0.5f) / 40;
    o << "<rect x='" << num(L.scale_x) << "' y='" << num(sy + sh * k / 40)
      << "' width='14' height='" << num(sh / 40 + 0.5) << "' fill='" << colour(st, v) << "'/>\n";
  }
  o << "<rect x='" << num(L.scale_x) << "' y='" << num(sy) << "' width='14' height='" << num(sh)
    << "' fill='none' stroke='#888'/>\n";
  for (int k = 0; k <= 4; ++k) {
    const double v = st.hi - (st.hi - st.lo) * k / 4.0;
    o << "<text x='" << num(L.scale_x + 18) << "' y='" << num(sy + sh * k / 4 + 4)
      << "' font-size='11'>" << tick_label(std::fabs(v) < 1e-9 ? 0 : v) << "</text>\n";
  }
  o << "<text x='" << num(L.scale_x) << "' y='" << num(sy - 8) << "' font-size='11'>"
    << xml_escape(st.scale_label) << "</text>\n";
}

}  // namespace heatmap_detail

inline std::string heatmap_svg(const std::vector<HeatPanel>& panels, const HeatmapStyle& st,
                               const std::string& title) {
  namespace d = heatmap_detail;
  const d::Layout L = d::layout(panels, st, title);
  std::ostringstream o;
  o << svg_open(L.W, L.H, 13);
  o << "<text x='10' y='24' font-size='15'>" << xml_escape(title) << "</text>\n";
  for (size_t p = 0; p < L.P; ++p) d::panel(o, L, st, panels[p], p);
  d::colour_scale(o, L, st);
  o << notes_svg(st.notes, L.H);
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
