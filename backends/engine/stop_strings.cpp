// Stop-string matching over streamed text (the algorithm is described in stop_strings.hpp).
#include "backends/engine/stop_strings.hpp"

#include <algorithm>

namespace laneway::engine {

std::optional<std::string> validate_stop_strings(const std::vector<std::string>& stops) {
  if (stops.size() > max_stop_strings)
    return "stop: at most " + std::to_string(max_stop_strings) + " stop strings, got " + std::to_string(stops.size());
  for (std::size_t i = 0; i < stops.size(); ++i)
    if (stops[i].size() > max_stop_string_bytes)
      return "stop[" + std::to_string(i) + "]: longer than " + std::to_string(max_stop_string_bytes) + " bytes";
  return std::nullopt;
}

stop_matcher::stop_matcher(std::vector<std::string> stops) {
  for (std::size_t i = 0; i < stops.size(); ++i) {
    if (stops[i].empty()) continue;
    stops_.push_back(std::move(stops[i]));
    index_.push_back(static_cast<int>(i));
  }
}

stop_matcher::step stop_matcher::push(std::string_view piece) {
  out_.clear();
  if (stopped_) return {};
  if (stops_.empty()) {
    out_.assign(piece);
    return {out_};
  }
  tail_.append(piece);

  // Earliest full match; only positions where a match can end inside the new piece are new, but
  // the tail is short, so search it all.
  std::size_t best_pos = std::string::npos;
  int best = -1;
  for (std::size_t s = 0; s < stops_.size(); ++s) {
    const std::size_t pos = tail_.find(stops_[s]);
    if (pos < best_pos) {
      best_pos = pos;
      best = static_cast<int>(s);
    }
  }
  if (best >= 0) {
    stopped_ = true;
    out_.assign(tail_, 0, best_pos);
    tail_.clear();
    return {out_, true, index_[static_cast<std::size_t>(best)]};
  }

  // Hold back the longest suffix of the tail that is a proper prefix of some stop string.
  std::size_t hold = 0;
  for (const std::string& stop : stops_) {
    const std::size_t max_len = std::min(stop.size() - 1, tail_.size());
    for (std::size_t len = max_len; len > hold; --len) {
      if (std::string_view(tail_).substr(tail_.size() - len) == std::string_view(stop).substr(0, len)) {
        hold = len;
        break;
      }
    }
  }
  const std::size_t emit = tail_.size() - hold;
  out_.assign(tail_, 0, emit);
  tail_.erase(0, emit);
  return {out_};
}

std::string_view stop_matcher::finish() {
  out_.clear();
  if (stopped_) return {};
  out_.swap(tail_);
  return out_;
}

}  // namespace laneway::engine
