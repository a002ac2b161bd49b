// Self-contained SVG drawings for the translator apps: the loss curve and the attention
// heat map. Plain text, no scripts, no external fonts or images: open them in a browser.
#pragma once

#include <string>
#include <vector>

namespace qkv::app {

// Fonts that have Chinese characters, tried in order, then any sans-serif.
inline const char kSvgFonts[] =
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Hiragino Sans GB', "
    "'Microsoft YaHei', 'WenQuanYi Micro Hei', 'Droid Sans Fallback', sans-serif";

std::string xml_escape(const std::string& s);

// The loss of every step (light) and its moving average (dark), with the learning rate
// on a second axis when `lrs` is not empty. `title` goes above the plot.
std::string loss_curve_svg(const std::vector<float>& losses, const std::vector<float>& lrs,
                           const std::string& title);

// One heat map per panel: weights[panel][t][s] for target row t and source column s,
// each row a distribution over the source. Rows are labelled with `tgt_labels`, columns
// with `src_labels`; panel_titles names each panel ("head 0", …, "mean").
std::string attention_svg(const std::vector<std::vector<std::vector<float>>>& weights,
                          const std::vector<std::string>& src_labels,
                          const std::vector<std::string>& tgt_labels,
                          const std::vector<std::string>& panel_titles, const std::string& title);

}  // namespace qkv::app
