// GraphWriter::svg: the drawing laid out by topological depth, with no Graphviz.
//
// Depth of a box = the longest path from it to the root, so every arrow points down, the
// root sits alone at the bottom and a leaf sits just above the first op that reads it.
// Within a layer, boxes are ordered by the mean position of the boxes they feed (one
// barycentre pass from the root up), which keeps most arrows short and uncrossed.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "autograd/graph_writer.h"

namespace qkv {

namespace {

constexpr double kCharW = 7.2, kLineH = 15, kPadX = 8, kPadY = 6, kGapX = 18, kGapY = 46,
                 kMargin = 20;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

size_t codepoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

struct Place {
  double x = 0, y = 0, w = 0, h = 0;  // x: centre; y: top
  int depth = 0;
};

}  // namespace

std::string GraphWriter::svg(const std::string& title) const {
  const Drawing d = drawing();
  const size_t n = d.boxes.size();
  std::vector<Place> p(n);
  for (size_t i = 0; i < n; ++i) {
    size_t chars = 0;
    for (const auto& l : d.boxes[i].lines) chars = std::max(chars, codepoints(l));
    p[i].w = static_cast<double>(chars) * kCharW + 2 * kPadX;
    p[i].h = static_cast<double>(d.boxes[i].lines.size()) * kLineH + 2 * kPadY;
  }
  // Boxes come inputs first and arrows point to later boxes, so one pass from the end
  // settles every depth.
  std::vector<std::vector<int>> feeds(n);
  for (const Arrow& a : d.arrows) feeds[a.from].push_back(a.to);
  int max_depth = 0;
  for (size_t i = n; i-- > 0;) {
    for (int c : feeds[i]) p[i].depth = std::max(p[i].depth, p[c].depth + 1);
    max_depth = std::max(max_depth, p[i].depth);
  }
  std::vector<std::vector<int>> layer(max_depth + 1);
  for (size_t i = 0; i < n; ++i) layer[p[i].depth].push_back(static_cast<int>(i));
  // x: the root at 0, then each layer up packed around the mean x of what it feeds.
  for (int k = 0; k <= max_depth; ++k) {
    std::vector<std::pair<double, int>> want;
    for (int i : layer[k]) {
      double sum = 0;
      for (int c : feeds[i]) sum += p[c].x;
      want.emplace_back(feeds[i].empty() ? 0.0 : sum / static_cast<double>(feeds[i].size()), i);
    }
    std::sort(want.begin(), want.end());
    double right = -1e300, drift = 0;
    for (auto [x, i] : want) {
      p[i].x = std::max(x, right + kGapX + p[i].w / 2);
      right = p[i].x + p[i].w / 2;
      drift += p[i].x - x;
    }
    for (auto& wi : want) p[wi.second].x -= drift / static_cast<double>(want.size());
  }
  // y: the deepest layer on top.
  const double title_h = title.empty() ? 0 : 30;
  double y = kMargin + title_h;
  for (int k = max_depth; k >= 0; --k) {
    double h = 0;
    for (int i : layer[k]) h = std::max(h, p[i].h);
    for (int i : layer[k]) p[i].y = y + (h - p[i].h) / 2;
    y += h + kGapY;
  }
  double lo = 1e300, hi = -1e300;
  for (const Place& q : p) {
    lo = std::min(lo, q.x - q.w / 2);
    hi = std::max(hi, q.x + q.w / 2);
  }
  // An arrow that skips layers (a residual connection, a leaf read by a late op) would run
  // behind the boxes in between; it goes round them on the right instead.
  std::vector<double> detour(d.arrows.size(), 0);
  int detours = 0;
  for (size_t k = 0; k < d.arrows.size(); ++k) {
    const Place &s = p[d.arrows[k].from], &t = p[d.arrows[k].to];
    double right = -1e300;
    for (int depth = t.depth + 1; depth < s.depth; ++depth)
      for (int i : layer[depth])
        if (p[i].x + p[i].w / 2 + 6 > std::min(s.x, t.x) &&
            p[i].x - p[i].w / 2 - 6 < std::max(s.x, t.x))
          right = std::max(right, p[i].x + p[i].w / 2);
    if (right < -1e299) continue;
    detour[k] = std::max(right, std::max(s.x, t.x)) + 16 + 8 * (detours++ % 3);
    hi = std::max(hi, detour[k] + 70);
  }
  // The key names only what this drawing holds.
  bool has[4] = {false, false, false, false}, measured = false;
  for (const Box& b : d.boxes) has[b.kind] = true;
  for (const Arrow& a : d.arrows) measured = measured || a.measured;
  std::string legend = "white: an op and its output's shape";
  if (has[Box::kLeafGrad]) legend += " · yellow: a leaf that requires grad";
  if (has[Box::kLeafConst]) legend += " · grey, dashed: needs no gradient";
  if (has[Box::kModule]) legend += " · blue: a module drawn as one box";
  const std::string legend2 =
      measured ? "|g| on an arrow: the norm of the gradient backward sent along it" : "";
  const double legend_w = static_cast<double>(codepoints(legend)) * 6.1;
  const double W =
      std::max({hi - lo, static_cast<double>(codepoints(title)) * 8.5, legend_w}) + 2 * kMargin;
  const double shift = kMargin + (W - 2 * kMargin - (hi - lo)) / 2 - lo;
  for (Place& q : p) q.x += shift;
  const double H = y - kGapY + kMargin + (legend2.empty() ? 24 : 38);

  std::string o = "<svg xmlns='http://www.w3.org/2000/svg' width='" + num(W) + "' height='" +
                  num(H) + "' viewBox='0 0 " + num(W) + " " + num(H) +
                  "' font-family=\"'DejaVu Sans Mono', Menlo, Consolas, 'Noto Sans Mono CJK SC', "
                  "'Noto Sans CJK SC', monospace\" font-size='12'>\n";
  o +=
      "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' "
      "markerHeight='7' orient='auto'><path d='M0,0 L10,5 L0,10 z' fill='#555'/></marker></defs>\n";
  o += "<rect width='100%' height='100%' fill='white'/>\n";
  if (!title.empty())
    o += "<text x='" + num(W / 2) + "' y='" + num(kMargin + 12) +
         "' text-anchor='middle' font-size='14' font-family=\"'Noto Sans CJK SC', 'Source Han Sans "
         "SC', sans-serif\">" +
         escape(title) + "</text>\n";
  for (size_t k = 0; k < d.arrows.size(); ++k) {
    const Arrow& a = d.arrows[k];
    const Place &s = p[a.from], &t = p[a.to];
    const double y0 = s.y + s.h, y1 = t.y - 1, ym = (y0 + y1) / 2;
    const std::string stroke = std::string("' fill='none' stroke='") +
                               (a.grad ? "#555'" : "#aaa' stroke-dasharray='4,3'") +
                               " marker-end='url(#arrow)'/>\n";
    char norm[32];
    std::snprintf(norm, sizeof norm, "%.3g", a.grad_norm);
    if (detour[k] != 0) {
      const double xd = detour[k] + shift;
      o += "<path d='M" + num(s.x) + "," + num(y0) + " C" + num(s.x) + "," + num(y0 + 18) + " " +
           num(xd) + "," + num(y0 + 6) + " " + num(xd) + "," + num(y0 + 30) + " L" + num(xd) + "," +
           num(y1 - 30) + " C" + num(xd) + "," + num(y1 - 6) + " " + num(t.x) + "," + num(y1 - 18) +
           " " + num(t.x) + "," + num(y1) + stroke;
      if (a.grad && a.measured)
        o += "<text x='" + num(xd + 5) + "' y='" + num(ym + 4) +
             "' font-size='11' fill='#b03a2e' stroke='white' stroke-width='3' "
             "paint-order='stroke'>|g| " +
             norm + "</text>\n";
      continue;
    }
    o += "<path d='M" + num(s.x) + "," + num(y0) + " C" + num(s.x) + "," + num(ym) + " " +
         num(t.x) + "," + num(ym) + " " + num(t.x) + "," + num(y1) + stroke;
    if (a.grad && a.measured) {
      // The label sits a third of the way down, on the outer side of the curve, so that two
      // arrows into one box keep their labels apart.
      const double t3 = 1.0 / 3, u = 1 - t3;
      const double lx = (u * u * u + 3 * u * u * t3) * s.x + (3 * u * t3 * t3 + t3 * t3 * t3) * t.x;
      const double ly = u * u * u * y0 + 3 * u * t3 * (u + t3) * ym + t3 * t3 * t3 * y1;
      const bool left = t.x > s.x + 0.5;
      o += "<text x='" + num(lx + (left ? -5 : 5)) + "' y='" + num(ly + 4) + "' text-anchor='" +
           (left ? "end" : "start") +
           "' font-size='11' fill='#b03a2e' stroke='white' stroke-width='3' "
           "paint-order='stroke'>|g| " +
           norm + "</text>\n";
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const Box& b = d.boxes[i];
    const Place& q = p[i];
    const double x0 = q.x - q.w / 2;
    const char* style =
        b.kind == Box::kOp         ? "fill='white' stroke='#333'"
        : b.kind == Box::kModule   ? "fill='#dbe8f6' stroke='#1f4e9a' stroke-width='2'"
        : b.kind == Box::kLeafGrad ? "fill='#ffe9a8' stroke='#b8860b'"
                                   : "fill='#f2f2f2' stroke='#999' stroke-dasharray='4,3'";
    if (b.root)
      o += "<rect x='" + num(x0 - 3) + "' y='" + num(q.y - 3) + "' width='" + num(q.w + 6) +
           "' height='" + num(q.h + 6) + "' rx='6' fill='none' stroke='#333'/>\n";
    o += "<rect x='" + num(x0) + "' y='" + num(q.y) + "' width='" + num(q.w) + "' height='" +
         num(q.h) + "' rx='4' " + style + "/>\n";
    for (size_t l = 0; l < b.lines.size(); ++l)
      o += "<text x='" + num(q.x) + "' y='" + num(q.y + kPadY + kLineH * (l + 1) - 3.5) +
           "' text-anchor='middle'" + (l == 0 ? "" : " fill='#555'") + ">" + escape(b.lines[l]) +
           "</text>\n";
  }
  const double ly = H - (legend2.empty() ? 12 : 26);
  const std::string lines[2] = {legend, legend2};
  for (int l = 0; l < 2; ++l)
    if (!lines[l].empty())
      o += "<text x='" + num(kMargin) + "' y='" + num(ly + 14 * l) +
           "' font-size='10' font-family=\"'Noto Sans CJK SC', 'Source Han Sans SC', sans-serif\" "
           "fill='#555'>" +
           escape(lines[l]) + "</text>\n";
  return o + "</svg>\n";
}

}  // namespace qkv
