// Escaping text from outside (server answers, file names, model metadata) for HTML reports
// the tools write: the ladder's report and the KV sheet.
#pragma once

#include <string>
#include <string_view>

namespace laneway::http {

// & < > " ' as character references (safe in element text and quoted attributes); invalid
// UTF-8 and control characters other than tab and newline become U+FFFD, so the page stays
// well-formed XML whatever the input.
std::string html_escape(std::string_view text);

}  // namespace laneway::http
