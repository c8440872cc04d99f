// Inline SVG line plots for the ladder's HTML report, drawn here so the report needs no
// script or external resource: axes with round-number ticks, one polyline (with dots) per
// series, a legend. All text that goes into the SVG is escaped with html_escape.
#pragma once

#include "gateway/http/html_escape.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace laneway::ladder {

using http::html_escape;  // gateway/http/html_escape.hpp

struct plot_series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in the given order
};

struct plot_spec {
  std::string title, x_label, y_label;
  int width = 760, height = 320;
};

// Round tick values covering [lo, hi] (about five; steps of 1, 2 or 5 x 10^k).
std::vector<double> nice_ticks(double lo, double hi);

// One <svg> element (role="img", with a <title>); "no data" inside when every series is empty.
std::string line_plot(const plot_spec& spec, const std::vector<plot_series>& series);

}  // namespace laneway::ladder
