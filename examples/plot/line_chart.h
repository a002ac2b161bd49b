// Line charts with a legend: curves against steps or lengths (chapters 06, 10), and the
// translator's loss curve (chapter 12) with its label-smoothing floor.
#pragma once

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "examples/plot/svg.h"

namespace qkv::plot {

struct Series {
  std::string name;  // in the legend
  std::vector<double> x, y;
  std::string colour = "#1f4e9a";
  double width = 2;
  bool dashed = false, dots = false;
};

struct LineChartStyle {
  std::string x_label, y_label;
  double y_lo = 0, y_hi = NAN;  // NAN: from the data
  struct Level {                // a horizontal reference line
    double y;
    std::string label;
  };
  std::vector<Level> levels;
  std::vector<std::string> notes;  // lines under the chart
  double width = 760, height = 400;
  bool legend_low = false;  // the legend bottom right instead of top right
};

inline std::string line_chart_svg(const std::vector<Series>& series, const LineChartStyle& st,
                                  const std::string& title) {
  double x_lo = INFINITY, x_hi = -INFINITY, y_hi = st.y_hi;
  const bool auto_y = std::isnan(y_hi);
  if (auto_y) y_hi = -INFINITY;
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      if (auto_y && std::isfinite(s.y[i])) y_hi = std::max(y_hi, s.y[i]);
    }
  if (!(x_hi > x_lo)) x_hi = x_lo + 1;
  double ystep = tick_step(y_hi - st.y_lo, 5);
  if (auto_y) y_hi = st.y_lo + std::ceil((y_hi - st.y_lo) / ystep) * ystep;
  double notes_w = 0;
  for (const auto& n : st.notes) notes_w = std::max(notes_w, text_width(n, 11));
  const double W = std::ceil(std::max({st.width, text_width(title, 15) + 40, notes_w + 30}));
  const double left = 64, right = 24, top = 44, bottom = 52 + 16.0 * st.notes.size();
  const double H = st.height + 16.0 * st.notes.size();
  const double pw = W - left - right, ph = H - top - bottom;
  auto X = [&](double v) { return left + pw * (v - x_lo) / (x_hi - x_lo); };
  auto Y = [&](double v) {
    return top + ph * (1 - (std::min(std::max(v, st.y_lo), y_hi) - st.y_lo) / (y_hi - st.y_lo));
  };
  std::ostringstream o;
  o << svg_open(W, H);
  o << "<text x='" << num(W / 2) << "' y='24' text-anchor='middle' font-size='15'>"
    << xml_escape(title) << "</text>\n";
  for (double v = st.y_lo; v <= y_hi + 1e-9 * std::fabs(y_hi); v += ystep) {
    o << "<line x1='" << num(left) << "' x2='" << num(left + pw) << "' y1='" << num(Y(v))
      << "' y2='" << num(Y(v)) << "' stroke='#e5e5e5'/>\n";
    o << "<text x='" << num(left - 6) << "' y='" << num(Y(v) + 4) << "' text-anchor='end'>"
      << tick_label(std::fabs(v) < 1e-12 ? 0 : v) << "</text>\n";
  }
  const double xstep = tick_step(x_hi - x_lo, 6);
  for (double v = std::ceil(x_lo / xstep) * xstep; v <= x_hi + 1e-9; v += xstep)
    o << "<text x='" << num(X(v)) << "' y='" << num(top + ph + 18) << "' text-anchor='middle'>"
      << tick_label(v) << "</text>\n";
  o << "<rect x='" << num(left) << "' y='" << num(top) << "' width='" << num(pw) << "' height='"
    << num(ph) << "' fill='none' stroke='#444'/>\n";
  o << "<text x='" << num(left + pw / 2) << "' y='" << num(top + ph + 38)
    << "' text-anchor='middle'>" << xml_escape(st.x_label) << "</text>\n";
  o << "<text transform='translate(16," << num(top + ph / 2)
    << ") rotate(-90)' text-anchor='middle'>" << xml_escape(st.y_label) << "</text>\n";
  for (const auto& l : st.levels) {
    o << "<line x1='" << num(left) << "' x2='" << num(left + pw) << "' y1='" << num(Y(l.y))
      << "' y2='" << num(Y(l.y)) << "' stroke='#2ca02c' stroke-width='1.5' "
      << "stroke-dasharray='2,3'/>\n";
    o << "<text x='" << num(left + 6) << "' y='" << num(Y(l.y) - 5)
      << "' fill='#2ca02c' font-size='11'>" << xml_escape(l.label) << "</text>\n";
  }
  for (const auto& s : series) {
    o << "<polyline fill='none' stroke='" << s.colour << "' stroke-width='" << num(s.width) << "'"
      << (s.dashed ? " stroke-dasharray='6,3'" : "") << " points='";
    for (size_t i = 0; i < s.x.size(); ++i) o << num(X(s.x[i])) << "," << num(Y(s.y[i])) << " ";
    o << "'/>\n";
    if (s.dots)
      for (size_t i = 0; i < s.x.size(); ++i)
        o << "<circle cx='" << num(X(s.x[i])) << "' cy='" << num(Y(s.y[i])) << "' r='3' fill='"
          << s.colour << "'/>\n";
  }
  // The legend, top right inside the plot.
  double lw = 0;
  for (const auto& s : series) lw = std::max(lw, text_width(s.name, 12));
  const double lx = left + pw - lw - 48,
               ly = st.legend_low ? top + ph - 18.0 * series.size() - 12 : top + 10;
  o << "<rect x='" << num(lx - 8) << "' y='" << num(ly - 4) << "' width='" << num(lw + 52)
    << "' height='" << num(18.0 * series.size() + 6)
    << "' fill='white' fill-opacity='0.85' stroke='#ccc'/>\n";
  for (size_t i = 0; i < series.size(); ++i) {
    const double y = ly + 9 + 18.0 * i;
    o << "<line x1='" << num(lx) << "' x2='" << num(lx + 28) << "' y1='" << num(y) << "' y2='"
      << num(y) << "' stroke='" << series[i].colour << "' stroke-width='" << num(series[i].width)
      << "'" << (series[i].dashed ? " stroke-dasharray='6,3'" : "") << "/>\n<text x='"
      << num(lx + 36) << "' y='" << num(y + 4) << "'>" << xml_escape(series[i].name) << "</text>\n";
  }
  for (size_t n = 0; n < st.notes.size(); ++n)
    o << "<text x='10' y='" << num(H - 10 - 16.0 * (st.notes.size() - 1 - n))
      << "' font-size='11' fill='#555'>" << xml_escape(st.notes[n]) << "</text>\n";
  o << svg_close();
  return o.str();
}

// Every step's loss (light), its moving average over a 40th of the run (dark), the learning
// rate (dashed, own axis on the right) when `lrs` is not empty, and the lowest loss label
// smoothing allows (`floor`, when not NAN) as a dotted line.
inline std::string loss_curve_svg(const std::vector<float>& losses, const std::vector<float>& lrs,
                                  const std::string& title, double floor = NAN) {
  const double W = std::max(760.0, text_width(title, 15) + 40), H = 400, left = 64,
               right = lrs.empty() ? 24 : 80, top = 44, bottom = 52;
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
  o << svg_open(W, H);
  o << "<text x='" << num(W / 2) << "' y='24' text-anchor='middle' font-size='15'>"
    << xml_escape(title) << "</text>\n";
  for (double v = 0; v <= ymax + 1e-9; v += ystep) {
    o << "<line x1='" << left << "' x2='" << num(left + pw) << "' y1='" << num(Y(v)) << "' y2='"
      << num(Y(v)) << "' stroke='#e5e5e5'/>\n";
    o << "<text x='" << left - 6 << "' y='" << num(Y(v) + 4) << "' text-anchor='end'>"
      << tick_label(v) << "</text>\n";
  }
  const double xstep = tick_step(xmax, 6);
  for (double s = 0; s <= xmax + 1e-9; s += xstep)
    o << "<text x='" << num(X(s)) << "' y='" << top + ph + 18 << "' text-anchor='middle'>"
      << tick_label(s) << "</text>\n";
  o << "<rect x='" << left << "' y='" << top << "' width='" << num(pw) << "' height='" << ph
    << "' fill='none' stroke='#444'/>\n";
  o << "<text x='" << num(left + pw / 2) << "' y='" << H - 12
    << "' text-anchor='middle'>step</text>\n";
  o << "<text transform='translate(16," << top + ph / 2
    << ") rotate(-90)' text-anchor='middle' fill='#1f4e9a'>training loss</text>\n";
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
  if (!std::isnan(floor)) {
    o << "<line x1='" << left << "' x2='" << num(left + pw) << "' y1='" << num(Y(floor)) << "' y2='"
      << num(Y(floor)) << "' stroke='#2ca02c' stroke-width='1.5' "
      << "stroke-dasharray='2,3'/>\n";
  }
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
        o << "<text x='" << num(left + pw + 6) << "' y='" << num(YL(v) + 4) << "' fill='#e6550d'>"
          << tick_label(v) << "</text>\n";
      o << "<text transform='translate(" << num(W - 12) << "," << top + ph / 2
        << ") rotate(90)' text-anchor='middle' fill='#e6550d'>learning rate (dashed)</text>\n";
    }
  }
  // The legend: what each line is.
  struct Key {
    std::string colour, dash, width, text;
  };
  std::vector<Key> keys = {
      {"#9ecae1", "", "1", "loss of each step"},
      {"#1f4e9a", "", "2", "moving average over " + std::to_string(window) + " steps"}};
  if (!lrs.empty()) keys.push_back({"#e6550d", "5,3", "1.5", "learning rate (right axis)"});
  if (!std::isnan(floor)) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "label-smoothing floor %.3f (the lowest loss possible)", floor);
    keys.push_back({"#2ca02c", "2,3", "1.5", buf});
  }
  double kw = 0;
  for (const auto& k : keys) kw = std::max(kw, text_width(k.text, 12));
  const double kx = left + pw - kw - 52, ky = top + 10;
  o << "<rect x='" << num(kx - 8) << "' y='" << num(ky - 4) << "' width='" << num(kw + 56)
    << "' height='" << num(18.0 * keys.size() + 6)
    << "' fill='white' fill-opacity='0.9' stroke='#ccc'/>\n";
  for (size_t i = 0; i < keys.size(); ++i) {
    const double y = ky + 9 + 18.0 * i;
    o << "<line x1='" << num(kx) << "' x2='" << num(kx + 30) << "' y1='" << num(y) << "' y2='"
      << num(y) << "' stroke='" << keys[i].colour << "' stroke-width='" << keys[i].width << "'"
      << (keys[i].dash.empty() ? "" : " stroke-dasharray='" + keys[i].dash + "'") << "/>\n"
      << "<text x='" << num(kx + 38) << "' y='" << num(y + 4) << "'>" << xml_escape(keys[i].text)
      << "</text>\n";
  }
  o << svg_close();
  return o.str();
}

}  // namespace qkv::plot
