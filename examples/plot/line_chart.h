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

namespace line_chart_detail {

// The plot area and its scales: x over the data's range, y from st.y_lo to a whole tick above
// the highest finite value (or st.y_hi when given); room for the title and the notes.
struct Frame {
  double W, H, left, right, top, bottom, pw, ph;
  double x_lo, x_hi, y_lo, y_hi, ystep;
  double X(double v) const { return left + pw * (v - x_lo) / (x_hi - x_lo); }
  double Y(double v) const {
    return top + ph * (1 - (std::min(std::max(v, y_lo), y_hi) - y_lo) / (y_hi - y_lo));
  }
};

inline Frame frame(const std::vector<Series>& series, const LineChartStyle& st,
                   const std::string& title) {
  Frame f;
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
  f.ystep = tick_step(y_hi - st.y_lo, 5);
  if (auto_y) y_hi = st.y_lo + std::ceil((y_hi - st.y_lo) / f.ystep) * f.ystep;
  f.x_lo = x_lo, f.x_hi = x_hi, f.y_lo = st.y_lo, f.y_hi = y_hi;
  double notes_w = 0;
  for (const auto& n : st.notes) notes_w = std::max(notes_w, text_width(n, 11));
  f.W = std::ceil(std::max({st.width, text_width(title, 15) + 40, notes_w + 30}));
  f.left = 64, f.right = 24, f.top = 44, f.bottom = 52 + 16.0 * st.notes.size();
  f.H = st.height + 16.0 * st.notes.size();
  f.pw = f.W - f.left - f.right, f.ph = f.H - f.top - f.bottom;
  return f;
}

// Title, horizontal grid with y ticks, x ticks, the frame and both axis labels.
inline void axes(std::ostream& o, const Frame& f, const LineChartStyle& st,
                 const std::string& title) {
  const double left = f.left, top = f.top, pw = f.pw, ph = f.ph, y_hi = f.y_hi;
  o << "<text x='" << num(f.W / 2) << "' y='24' text-anchor='middle' font-size='15'>"
    << xml_escape(title) << "</text>\n";
  for (double v = f.y_lo; v <= y_hi + 1e-9 * std::fabs(y_hi); v += f.ystep) {
    o << "<line x1='" << num(left) << "' x2='" << num(left + pw) << "' y1='" << num(f.Y(v))
      << "' y2='" << num(f.Y(v)) << "' stroke='#e5e5e5'/>\n";
    o << "<text x='" << num(left - 6) << "' y='" << num(f.Y(v) + 4) << "' text-anchor='end'>"
      << tick_label(std::fabs(v) < 1e-12 ? 0 : v) << "</text>\n";
  }
  const double xstep = tick_step(f.x_hi - f.x_lo, 6);
  for (double v = std::ceil(f.x_lo / xstep) * xstep; v <= f.x_hi + 1e-9; v += xstep)
    o << "<text x='" << num(f.X(v)) << "' y='" << num(top + ph + 18) << "' text-anchor='middle'>"
      << tick_label(v) << "</text>\n";
  o << "<rect x='" << num(left) << "' y='" << num(top) << "' width='" << num(pw) << "' height='"
    << num(ph) << "' fill='none' stroke='#444'/>\n";
  o << "<text x='" << num(left + pw / 2) << "' y='" << num(top + ph + 38)
    << "' text-anchor='middle'>" << xml_escape(st.x_label) << "</text>\n";
  o << "<text transform='translate(16," << num(top + ph / 2)
    << ") rotate(-90)' text-anchor='middle'>" << xml_escape(st.y_label) << "</text>\n";
}

// Each reference level: a dotted green line labelled at its left end.
inline void levels(std::ostream& o, const Frame& f, const LineChartStyle& st) {
  for (const auto& l : st.levels) {
    o << "<line x1='" << num(f.left) << "' x2='" << num(f.left + f.pw) << "' y1='" << num(f.Y(l.y))
      << "' y2='" << num(f.Y(l.y)) << "' stroke='#2ca02c' stroke-width='1.5' "
      << "stroke-dasharray='2,3'/>\n";
    o << "<text x='" << num(f.left + 6) << "' y='" << num(f.Y(l.y) - 5)
      << "' fill='#2ca02c' font-size='11'>" << xml_escape(l.label) << "</text>\n";
  }
}

// One polyline per series, with a dot on each point when asked.
inline void lines(std::ostream& o, const Frame& f, const std::vector<Series>& series) {
  for (const auto& s : series) {
    o << "<polyline fill='none' stroke='" << s.colour << "' stroke-width='" << num(s.width) << "'"
      << (s.dashed ? " stroke-dasharray='6,3'" : "") << " points='";
    for (size_t i = 0; i < s.x.size(); ++i) o << num(f.X(s.x[i])) << "," << num(f.Y(s.y[i])) << " ";
    o << "'/>\n";
    if (s.dots)
      for (size_t i = 0; i < s.x.size(); ++i)
        o << "<circle cx='" << num(f.X(s.x[i])) << "' cy='" << num(f.Y(s.y[i])) << "' r='3' fill='"
          << s.colour << "'/>\n";
  }
}

// The legend, top right inside the plot (bottom right with st.legend_low).
inline void legend(std::ostream& o, const Frame& f, const std::vector<Series>& series,
                   const LineChartStyle& st) {
  double lw = 0;
  for (const auto& s : series) lw = std::max(lw, text_width(s.name, 12));
  const double lx = f.left + f.pw - lw - 48,
               ly = st.legend_low ? f.top + f.ph - 18.0 * series.size() - 12 : f.top + 10;
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
}

}  // namespace line_chart_detail

inline std::string line_chart_svg(const std::vector<Series>& series, const LineChartStyle& st,
                                  const std::string& title) {
  namespace d = line_chart_detail;
  const d::Frame f = d::frame(series, st, title);
  std::ostringstream o;
  o << svg_open(f.W, f.H);
  d::axes(o, f, st, title);
  d::levels(o, f, st);
  d::lines(o, f, series);
  d::legend(o, f, series, st);
  o << notes_svg(st.notes, f.H);
  o << svg_close();
  return o.str();
}

namespace loss_curve_detail {

// The plot area and its scales: steps 0..xmax across, loss 0..ymax up.
struct Frame {
  double W, H, left, right, top, bottom, pw, ph;
  double xmax, ymax, ystep;
  double X(double step) const { return left + pw * step / xmax; }
  double Y(double v) const { return top + ph * (1 - v / ymax); }
};

// Room on the right for the learning-rate axis when there is one; the loss axis rounded up
// to a whole tick above the highest finite loss.
inline Frame frame(const std::vector<float>& losses, bool with_lr, const std::string& title) {
  Frame f;
  f.W = std::max(760.0, text_width(title, 15) + 40);
  f.H = 400, f.left = 64, f.right = with_lr ? 80 : 24, f.top = 44, f.bottom = 52;
  f.pw = f.W - f.left - f.right, f.ph = f.H - f.top - f.bottom;
  double ymax = 0;
  for (float l : losses)
    if (std::isfinite(l)) ymax = std::max(ymax, static_cast<double>(l));
  if (ymax <= 0) ymax = 1;
  f.ystep = tick_step(ymax, 5);
  f.ymax = std::ceil(ymax / f.ystep) * f.ystep;
  f.xmax = std::max<double>(1, static_cast<double>(losses.size()));
  return f;
}

// Title, horizontal grid with loss ticks, step ticks, the frame and both axis labels.
inline void axes(std::ostream& o, const Frame& f, const std::string& title) {
  const double left = f.left, top = f.top, pw = f.pw, ph = f.ph;
  o << "<text x='" << num(f.W / 2) << "' y='24' text-anchor='middle' font-size='15'>"
    << xml_escape(title) << "</text>\n";
  for (double v = 0; v <= f.ymax + 1e-9; v += f.ystep) {
    o << "<line x1='" << left << "' x2='" << num(left + pw) << "' y1='" << num(f.Y(v)) << "' y2='"
      << num(f.Y(v)) << "' stroke='#e5e5e5'/>\n";
    o << "<text x='" << left - 6 << "' y='" << num(f.Y(v) + 4) << "' text-anchor='end'>"
      << tick_label(v) << "</text>\n";
  }
  const double xstep = tick_step(f.xmax, 6);
  for (double s = 0; s <= f.xmax + 1e-9; s += xstep)
    o << "<text x='" << num(f.X(s)) << "' y='" << top + ph + 18 << "' text-anchor='middle'>"
      << tick_label(s) << "</text>\n";
  o << "<rect x='" << left << "' y='" << top << "' width='" << num(pw) << "' height='" << ph
    << "' fill='none' stroke='#444'/>\n";
  o << "<text x='" << num(left + pw / 2) << "' y='" << f.H - 12
    << "' text-anchor='middle'>step</text>\n";
  o << "<text transform='translate(16," << top + ph / 2
    << ") rotate(-90)' text-anchor='middle' fill='#1f4e9a'>training loss</text>\n";
}

// Raw loss, one point per bucket of steps (the bucket's mean), clipped at the top.
inline void raw_loss(std::ostream& o, const Frame& f, const std::vector<float>& losses,
                     size_t bucket) {
  const size_t n = losses.size();
  o << "<polyline fill='none' stroke='#9ecae1' stroke-width='1' points='";
  for (size_t i = 0; i < n; i += bucket) {
    double sum = 0;
    size_t k = 0;
    for (; k < bucket && i + k < n; ++k) sum += losses[i + k];
    o << num(f.X(static_cast<double>(i + k))) << ","
      << num(f.Y(std::min(f.ymax, sum / static_cast<double>(k)))) << " ";
  }
  o << "'/>\n";
}

// The moving average over the last `window` steps, drawn at each bucket's start and the end.
inline void moving_average(std::ostream& o, const Frame& f, const std::vector<float>& losses,
                           size_t bucket, size_t window) {
  const size_t n = losses.size();
  o << "<polyline fill='none' stroke='#1f4e9a' stroke-width='2' points='";
  double run = 0;
  for (size_t i = 0; i < n; ++i) {
    run += losses[i];
    if (i >= window) run -= losses[i - window];
    const size_t count = std::min(i + 1, window);
    if (i % bucket == 0 || i + 1 == n)
      o << num(f.X(static_cast<double>(i + 1))) << "," << num(f.Y(run / static_cast<double>(count)))
        << " ";
  }
  o << "'/>\n";
}

inline void floor_line(std::ostream& o, const Frame& f, double floor) {
  o << "<line x1='" << f.left << "' x2='" << num(f.left + f.pw) << "' y1='" << num(f.Y(floor))
    << "' y2='" << num(f.Y(floor)) << "' stroke='#2ca02c' stroke-width='1.5' "
    << "stroke-dasharray='2,3'/>\n";
}

// The learning rate, dashed, on its own axis on the right (0 to 1.1 × its maximum).
inline void learning_rate(std::ostream& o, const Frame& f, const std::vector<float>& lrs,
                          size_t bucket) {
  const double lmax = *std::max_element(lrs.begin(), lrs.end());
  if (!(lmax > 0)) return;
  auto YL = [&](double v) { return f.top + f.ph * (1 - v / (lmax * 1.1)); };
  o << "<polyline fill='none' stroke='#e6550d' stroke-width='1.5' stroke-dasharray='5,3' "
       "points='";
  for (size_t i = 0; i < lrs.size(); i += bucket)
    o << num(f.X(static_cast<double>(i + 1))) << "," << num(YL(lrs[i])) << " ";
  o << "'/>\n";
  const double lstep = tick_step(lmax * 1.1, 4);
  for (double v = 0; v <= lmax * 1.1 + 1e-12; v += lstep)
    o << "<text x='" << num(f.left + f.pw + 6) << "' y='" << num(YL(v) + 4) << "' fill='#e6550d'>"
      << tick_label(v) << "</text>\n";
  o << "<text transform='translate(" << num(f.W - 12) << "," << f.top + f.ph / 2
    << ") rotate(90)' text-anchor='middle' fill='#e6550d'>learning rate (dashed)</text>\n";
}

// The legend, top right: what each line is.
inline void legend(std::ostream& o, const Frame& f, size_t window, bool with_lr, double floor) {
  struct Key {
    std::string colour, dash, width, text;
  };
  std::vector<Key> keys = {
      {"#9ecae1", "", "1", "loss of each step"},
      {"#1f4e9a", "", "2", "moving average over " + std::to_string(window) + " steps"}};
  if (with_lr) keys.push_back({"#e6550d", "5,3", "1.5", "learning rate (right axis)"});
  if (!std::isnan(floor)) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "label-smoothing floor %.3f (the lowest loss possible)", floor);
    keys.push_back({"#2ca02c", "2,3", "1.5", buf});
  }
  double kw = 0;
  for (const auto& k : keys) kw = std::max(kw, text_width(k.text, 12));
  const double kx = f.left + f.pw - kw - 52, ky = f.top + 10;
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
}

}  // namespace loss_curve_detail

// Every step's loss (light), its moving average over a 40th of the run (dark), the learning
// rate (dashed, own axis on the right) when `lrs` is not empty, and the lowest loss label
// smoothing allows (`floor`, when not NAN) as a dotted line.
inline std::string loss_curve_svg(const std::vector<float>& losses, const std::vector<float>& lrs,
                                  const std::string& title, double floor = NAN) {
  namespace d = loss_curve_detail;
  const d::Frame f = d::frame(losses, !lrs.empty(), title);
  // At most ~1500 points per line; the average over a 40th of the run.
  const size_t bucket = std::max<size_t>(1, losses.size() / 1500);
  const size_t window = std::max<size_t>(1, losses.size() / 40);
  std::ostringstream o;
  o << svg_open(f.W, f.H);
  d::axes(o, f, title);
  d::raw_loss(o, f, losses, bucket);
  d::moving_average(o, f, losses, bucket, window);
  if (!std::isnan(floor)) d::floor_line(o, f, floor);
  if (!lrs.empty()) d::learning_rate(o, f, lrs, bucket);
  d::legend(o, f, window, !lrs.empty(), floor);
  o << svg_close();
  return o.str();
}

}  // namespace qkv::plot
