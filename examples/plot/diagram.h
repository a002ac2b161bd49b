// Box-and-arrow diagrams on a fixed canvas: memory layouts and strides (chapter 01), the
// GEMM's blocking (03), the shape flow of multi-head attention (07). The caller places
// everything; the diagram only turns it into SVG.
#pragma once

#include <sstream>
#include <string>

#include "examples/plot/svg.h"

namespace qkv::plot {

class Diagram {
 public:
  Diagram(double width, double height, const std::string& title) : w_(width), h_(height) {
    o_ << "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' "
          "markerHeight='7' orient='auto'><path d='M0,0 L10,5 L0,10 z' fill='#444'/></marker>"
          "</defs>\n";
    text(10, 24, title, "start", 15);
  }

  // A rectangle with centred lines of text (the first line bold when `bold`).
  void box(double x, double y, double w, double h, const std::string& fill,
           const std::vector<std::string>& lines = {}, const std::string& stroke = "#444",
           bool bold = false, bool dashed = false) {
    o_ << "<rect x='" << num(x) << "' y='" << num(y) << "' width='" << num(w) << "' height='"
       << num(h) << "' fill='" << fill << "' stroke='" << stroke << "'"
       << (dashed ? " stroke-dasharray='4,3'" : "") << "/>\n";
    const double y0 = y + h / 2 - 7.5 * static_cast<double>(lines.size() - 1) + 4;
    for (size_t i = 0; i < lines.size(); ++i)
      o_ << "<text x='" << num(x + w / 2) << "' y='" << num(y0 + 15.0 * i)
         << "' text-anchor='middle'" << (bold && i == 0 ? " font-weight='bold'" : "") << ">"
         << xml_escape(lines[i]) << "</text>\n";
  }

  void arrow(double x1, double y1, double x2, double y2, const std::string& label = "",
             const std::string& colour = "#444", bool dashed = false) {
    o_ << "<line x1='" << num(x1) << "' y1='" << num(y1) << "' x2='" << num(x2) << "' y2='"
       << num(y2) << "' stroke='" << colour << "' stroke-width='1.5'"
       << (dashed ? " stroke-dasharray='5,3'" : "") << " marker-end='url(#arrow)'/>\n";
    if (!label.empty())
      o_ << "<text x='" << num((x1 + x2) / 2 + 6) << "' y='" << num((y1 + y2) / 2 + 4)
         << "' font-size='11' fill='#333' stroke='white' stroke-width='3' paint-order='stroke'>"
         << xml_escape(label) << "</text>\n";
  }

  void text(double x, double y, const std::string& s, const std::string& anchor = "start",
            int size = 12, const std::string& colour = "#222") {
    o_ << "<text x='" << num(x) << "' y='" << num(y) << "' text-anchor='" << anchor
       << "' font-size='" << size << "' fill='" << colour << "'>" << xml_escape(s) << "</text>\n";
  }

  std::string str() const { return svg_open(w_, h_) + o_.str() + svg_close(); }

 private:
  double w_, h_;
  std::ostringstream o_;
};

}  // namespace qkv::plot
