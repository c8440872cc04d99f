// compute_economics / economics_for (see economics.hpp). Per hour: hardware (rent, or price /
// (months x 730.5 h)) + power (watts / 1000 x price per kWh); per million tokens: that cost over
// the tokens generated in an hour at the measured rate.
#include "tools/ladder/economics.hpp"

#include <cstdio>

namespace laneway::ladder {

std::string validate_costs(const cost_inputs& in) {
  auto negative = [](const std::optional<double>& v) { return v && !(*v >= 0); };
  if (negative(in.rent_per_hour) || negative(in.purchase_price) || negative(in.watts) || negative(in.kwh_price))
    return "cost flags must be numbers >= 0";
  if (in.rent_per_hour && in.purchase_price) return "--rent-per-hour and --purchase-price exclude each other";
  if (in.purchase_price && !in.amortize_months) return "--purchase-price needs --amortize-months";
  if (in.amortize_months && !in.purchase_price) return "--amortize-months needs --purchase-price";
  if (in.amortize_months && !(*in.amortize_months > 0)) return "--amortize-months must be > 0";
  if (in.watts.has_value() != in.kwh_price.has_value()) return "--watts and --kwh-price go together";
  return "";
}

economics compute_economics(const cost_inputs& in, double tokens_per_s, int rung, bool rung_passed) {
  economics e;
  e.present = in.any();
  if (!e.present) return e;
  if (in.rent_per_hour) {
    e.hardware_per_hour = *in.rent_per_hour;
    e.basis = "rent";
  } else if (in.purchase_price && in.amortize_months) {
    e.hardware_per_hour = *in.purchase_price / (*in.amortize_months * hours_per_month);
    char b[96];
    std::snprintf(b, sizeof b, "purchase amortized over %g months", *in.amortize_months);
    e.basis = b;
  } else {
    e.basis = "power only";
  }
  if (in.watts && in.kwh_price) {
    e.power_per_hour = *in.watts / 1000.0 * *in.kwh_price;
    if (in.rent_per_hour || in.purchase_price) e.basis += " + power";
  }
  e.cost_per_hour = e.hardware_per_hour + e.power_per_hour;
  e.tokens_per_s = tokens_per_s;
  e.rung = rung;
  e.rung_passed = rung_passed;
  if (tokens_per_s > 0) e.cost_per_million_tokens = e.cost_per_hour / (tokens_per_s * 3600.0) * 1e6;
  return e;
}

economics economics_for(const cost_inputs& in, const std::vector<rung_summary>& rungs, const gate_thresholds& t,
                        bool stream) {
  const rung_summary* best = nullptr;
  bool passed = false;
  for (const auto& r : rungs) {
    bool p = rung_passes(r, t, stream);
    if (p && !passed) best = nullptr;  // a passing rung beats every failing one
    if (!p && passed) continue;
    if (!best || r.tokens_per_s > best->tokens_per_s) best = &r;
    passed = passed || p;
  }
  if (!best) return compute_economics(in, 0, 0, false);
  return compute_economics(in, best->tokens_per_s, best->concurrency, passed);
}

}  // namespace laneway::ladder
