// The memory text parsers (see memory_parse.hpp): each finds its label and reads the number
// after it with from_chars, so a format change gives nullopt, never a wrong figure.
#include "tools/ladder/memory_parse.hpp"

#include <charconv>
#include <string>

namespace laneway::ladder {

namespace {

std::string_view skip_space(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// The number right after `label` (spaces skipped), and what follows it in `rest`.
template <typename T>
std::optional<T> number_after(std::string_view text, std::string_view label, std::string_view* rest = nullptr) {
  auto at = text.find(label);
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view s = skip_space(text.substr(at + label.size()));
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  if (rest) *rest = s.substr(static_cast<std::size_t>(end - s.data()));
  return v;
}

// "Name:   123 kB" fields of /proc files: the label must start a line (so "SwapFree" never
// matches inside another name).
std::optional<long long> kb_field(std::string_view text, std::string_view name) {
  std::string label = std::string(name) + ":";
  std::optional<long long> v = text.substr(0, label.size()) == label ? number_after<long long>(text, label)
                                                                     : number_after<long long>(text, "\n" + label);
  if (!v) return std::nullopt;
  return *v * 1024;
}

}  // namespace

std::optional<long long> parse_proc_status_rss(std::string_view text) { return kb_field(text, "VmRSS"); }

std::optional<linux_meminfo> parse_proc_meminfo(std::string_view text) {
  auto avail = kb_field(text, "MemAvailable");
  auto total = kb_field(text, "SwapTotal");
  auto free = kb_field(text, "SwapFree");
  if (!avail || !total || !free) return std::nullopt;
  return linux_meminfo{*avail, *total - *free};
}

std::optional<double> parse_pressure_some_avg10(std::string_view text) {
  auto line = text.find("some ");
  if (line == std::string_view::npos) return std::nullopt;
  auto eol = text.find('\n', line);
  return number_after<double>(text.substr(line, eol == std::string_view::npos ? std::string_view::npos : eol - line),
                              "avg10=");
}

std::optional<long long> parse_ps_rss(std::string_view text) {
  std::string_view s = skip_space(text);
  long long kib = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), kib);
  if (ec != std::errc() || end == s.data()) return std::nullopt;
  return kib * 1024;
}

std::optional<long long> parse_vm_stat_available(std::string_view text) {
  auto page = number_after<long long>(text, "page size of");
  auto free = number_after<long long>(text, "Pages free:");
  auto inactive = number_after<long long>(text, "Pages inactive:");
  auto speculative = number_after<long long>(text, "Pages speculative:");
  if (!page || !free || !inactive || !speculative) return std::nullopt;
  return (*free + *inactive + *speculative) * *page;
}

std::optional<long long> parse_swapusage_used(std::string_view text) {
  std::string_view rest;
  auto used = number_after<double>(text, "used =", &rest);
  if (!used) return std::nullopt;
  double unit = 1;
  switch (rest.empty() ? ' ' : rest.front()) {
    case 'K': unit = 1024.0; break;
    case 'M': unit = 1024.0 * 1024; break;
    case 'G': unit = 1024.0 * 1024 * 1024; break;
    case 'T': unit = 1024.0 * 1024 * 1024 * 1024; break;
    default: return std::nullopt;
  }
  return static_cast<long long>(*used * unit);
}

std::optional<double> parse_memory_pressure(std::string_view text) {
  auto free = number_after<double>(text, "System-wide memory free percentage:");
  if (!free) return std::nullopt;
  return 100.0 - *free;
}

}  // namespace laneway::ladder
