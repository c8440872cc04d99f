// line_plot and its helpers (see svg_plot.hpp). Coordinates: a plot area inside fixed margins,
// x and y mapped linearly from the tick range, which always includes 0 on y so bars of growth
// are not exaggerated.
#include "tools/ladder/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace laneway::ladder {

std::vector<double> nice_ticks(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {0, 1};
  if (hi <= lo) hi = lo + (lo == 0 ? 1 : std::abs(lo));
  double raw = (hi - lo) / 5;
  double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  double start = std::floor(lo / step) * step;
  for (double v = start; v < hi + step * 0.999 && ticks.size() < 50; v += step) ticks.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

namespace {

const char* const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

std::string tick_label(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

}  // namespace

std::string line_plot(const plot_spec& spec, const std::vector<plot_series>& series) {
  const double left = 64, right = 156, top = 32, bottom = 44;  // the legend sits in the right margin
  const double w = spec.width, h = spec.height, pw = w - left - right, ph = h - top - bottom;
  std::string svg = "<svg role=\"img\" width=\"" + std::to_string(spec.width) +
                    "\" height=\"" + std::to_string(spec.height) + "\" viewBox=\"0 0 " + std::to_string(spec.width) +
                    " " + std::to_string(spec.height) + "\" font-family=\"sans-serif\" font-size=\"11\">";
  svg += "<title>" + html_escape(spec.title) + "</title>";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>";
  svg += "<text x=\"" + num(w / 2) + "\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">" +
         html_escape(spec.title) + "</text>";
  double x0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
  for (const auto& s : series)
    for (auto [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x0 = std::min(x0, x);
      x1 = std::max(x1, x);
      y1 = std::max(y1, y);
    }
  if (!std::isfinite(x0)) {
    svg += "<text x=\"" + num(w / 2) + "\" y=\"" + num(h / 2) + "\" text-anchor=\"middle\" fill=\"#666666\">no data</text></svg>";
    return svg;
  }
  auto xt = nice_ticks(x0, x1), yt = nice_ticks(0, std::max(y1, 0.0));
  double xmin = xt.front(), xmax = xt.back(), ymax = yt.back();
  auto px = [&](double x) { return left + (xmax > xmin ? (x - xmin) / (xmax - xmin) : 0.5) * pw; };
  auto py = [&](double y) { return top + ph - (ymax > 0 ? y / ymax : 0) * ph; };
  // Grid and tick labels.
  for (double y : yt) {
    svg += "<line x1=\"" + num(left) + "\" x2=\"" + num(left + pw) + "\" y1=\"" + num(py(y)) + "\" y2=\"" + num(py(y)) +
           "\" stroke=\"#e0e0e0\"/>";
    svg += "<text x=\"" + num(left - 6) + "\" y=\"" + num(py(y) + 4) + "\" text-anchor=\"end\">" + tick_label(y) + "</text>";
  }
  for (double x : xt) {
    svg += "<text x=\"" + num(px(x)) + "\" y=\"" + num(top + ph + 16) + "\" text-anchor=\"middle\">" + tick_label(x) +
           "</text>";
  }
  svg += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(pw) + "\" height=\"" + num(ph) +
         "\" fill=\"none\" stroke=\"#888888\"/>";
  svg += "<text x=\"" + num(left + pw / 2) + "\" y=\"" + num(h - 8) + "\" text-anchor=\"middle\">" +
         html_escape(spec.x_label) + "</text>";
  svg += "<text transform=\"translate(14 " + num(top + ph / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         html_escape(spec.y_label) + "</text>";
  // Series, each with its legend entry.
  for (std::size_t i = 0; i < series.size(); ++i) {
    const char* color = palette[i % std::size(palette)];
    std::string points;
    for (auto [x, y] : series[i].points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      points += (points.empty() ? "" : " ") + num(px(x)) + "," + num(py(y));
    }
    svg += "<polyline fill=\"none\" stroke=\"" + std::string(color) + "\" stroke-width=\"2\" points=\"" + points + "\"/>";
    if (series[i].points.size() <= 64) {
      for (auto [x, y] : series[i].points)
        if (std::isfinite(x) && std::isfinite(y))
          svg += "<circle cx=\"" + num(px(x)) + "\" cy=\"" + num(py(y)) + "\" r=\"3\" fill=\"" + color + "\"/>";
    }
    double ly = top + 8 + 16 * static_cast<double>(i), lx = left + pw + 12;
    svg += "<rect x=\"" + num(lx) + "\" y=\"" + num(ly - 8) + "\" width=\"10\" height=\"10\" fill=\"" + color + "\"/>";
    svg += "<text x=\"" + num(lx + 14) + "\" y=\"" + num(ly + 1) + "\">" + html_escape(series[i].name) + "</text>";
  }
  svg += "</svg>";
  return svg;
}

}  // namespace laneway::ladder
