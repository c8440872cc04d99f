// The self-contained HTML report (report.html under --out): the run stamp (laneway version,
// date, server URL, model and its file digest, config digest, mix name/version/digest), gates,
// rungs, transport A/B, economics, soak windows and inline SVG plots (latency percentiles per
// rung, the TTFT distribution, memory over time). No script, no external resource; everything
// that came from outside (URL, model, prompts, error texts) is HTML-escaped. The document is
// also well-formed XML, so `xmllint --noout` checks it.
#pragma once

#include <string>

#include "tools/ladder/ladder_report.hpp"

namespace laneway::ladder {

std::string render_html(const run_report& r);

}  // namespace laneway::ladder
