// Economics beside the numbers, as finance asks for them: the hardware's cost per hour (rent, or
// purchase price spread over months) plus power, and that per million generated tokens at the
// sustained throughput the ladder measured (its best rung that passed the gates).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tools/ladder/ladder_stats.hpp"

namespace laneway::ladder {

constexpr double hours_per_month = 365.25 * 24 / 12;  // 730.5

struct cost_inputs {
  std::optional<double> rent_per_hour, purchase_price, amortize_months, watts, kwh_price;
  bool any() const { return rent_per_hour || purchase_price || amortize_months || watts || kwh_price; }
};

// "" or what is wrong with the combination (rent and purchase both; purchase without months; ...).
std::string validate_costs(const cost_inputs& in);

struct economics {
  bool present = false;        // some cost was given
  std::string basis;           // "rent", "purchase amortized over N months", "power only"
  double hardware_per_hour = 0, power_per_hour = 0, cost_per_hour = 0;
  double tokens_per_s = 0;     // the throughput the cost per token is computed at
  int rung = 0;                // which rung's throughput (0: none had tokens)
  bool rung_passed = false;    // false: no rung passed its gates, the best rung is used anyway
  double cost_per_million_tokens = -1;  // -1 when tokens_per_s is 0
};

economics compute_economics(const cost_inputs& in, double tokens_per_s, int rung, bool rung_passed);
// The best rung by tokens/s among those passing the gates, or among all when none passes.
economics economics_for(const cost_inputs& in, const std::vector<rung_summary>& rungs, const gate_thresholds& t,
                        bool stream);

}  // namespace laneway::ladder
