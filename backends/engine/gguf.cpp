// gguf_file lookups: typed metadata accessors with errors that name the key, tensor lookup, and
// the table of supported tensor types (block size and bytes per block). Parsing: gguf_parser.cpp.
#include <cstring>
#include <limits>

#include "backends/engine/gguf.hpp"

namespace laneway::engine {

namespace {

constexpr tensor_type_traits type_table[] = {
    {tensor_type::f32, "F32", 1, 4},        {tensor_type::f16, "F16", 1, 2},
    {tensor_type::q4_0, "Q4_0", 32, 18},    {tensor_type::q8_0, "Q8_0", 32, 34},
    {tensor_type::q4_k, "Q4_K", 256, 144},  {tensor_type::q5_k, "Q5_K", 256, 176},
    {tensor_type::q6_k, "Q6_K", 256, 210},  {tensor_type::q8_k, "Q8_K", 256, 292},
    {tensor_type::bf16, "BF16", 1, 2},
};

bool is_unsigned(gguf_value_type t) {
  return t == gguf_value_type::u8 || t == gguf_value_type::u16 || t == gguf_value_type::u32 ||
         t == gguf_value_type::u64;
}
bool is_signed(gguf_value_type t) {
  return t == gguf_value_type::i8 || t == gguf_value_type::i16 || t == gguf_value_type::i32 ||
         t == gguf_value_type::i64;
}

template <typename T>
T read_le(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

int64_t array_int(const gguf_value& v, uint64_t e) {
  const std::byte* p = v.elements;
  switch (v.element_type) {
    case gguf_value_type::u8: return read_le<uint8_t>(p + e);
    case gguf_value_type::i8: return read_le<int8_t>(p + e);
    case gguf_value_type::u16: return read_le<uint16_t>(p + 2 * e);
    case gguf_value_type::i16: return read_le<int16_t>(p + 2 * e);
    case gguf_value_type::u32: return read_le<uint32_t>(p + 4 * e);
    case gguf_value_type::i32: return read_le<int32_t>(p + 4 * e);
    case gguf_value_type::u64: return static_cast<int64_t>(read_le<uint64_t>(p + 8 * e));
    case gguf_value_type::i64: return read_le<int64_t>(p + 8 * e);
    default: return 0;
  }
}

}  // namespace

std::string_view to_string(gguf_value_type t) {
  static constexpr std::string_view names[] = {"u8",  "i8",  "u16",    "i16",   "u32", "i32", "f32",
                                               "bool", "string", "array", "u64", "i64", "f64"};
  const auto i = static_cast<uint32_t>(t);
  return i < std::size(names) ? names[i] : "unknown";
}

const tensor_type_traits* find_tensor_type(uint32_t raw) {
  for (const auto& t : type_table)
    if (static_cast<uint32_t>(t.type) == raw) return &t;
  return nullptr;
}

const tensor_type_traits& traits(tensor_type t) { return *find_tensor_type(static_cast<uint32_t>(t)); }

std::string supported_tensor_types() {
  std::string s;
  for (const auto& t : type_table) {
    if (!s.empty()) s += ", ";
    s += std::string(t.name) + " (" + std::to_string(static_cast<uint32_t>(t.type)) + ")";
  }
  return s;
}

const gguf_value* gguf_file::find(std::string_view key) const {
  const auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const gguf_value& gguf_file::require(std::string_view key) const {
  const gguf_value* v = find(key);
  if (v == nullptr) throw gguf_error(name() + ": missing key '" + std::string(key) + "'");
  return *v;
}

namespace {

[[noreturn]] void wrong_type(const std::string& file, std::string_view key, const gguf_value& v,
                             std::string_view expected) {
  std::string got(to_string(v.type));
  if (v.type == gguf_value_type::array) got = "array of " + std::string(to_string(v.element_type));
  throw gguf_error(file + ": key '" + std::string(key) + "' at byte offset " + std::to_string(v.offset) +
                   " has type " + got + ", expected " + std::string(expected));
}

// Any integer scalar, range-checked into [lo, hi].
int64_t int_in_range(const std::string& file, std::string_view key, const gguf_value& v, int64_t lo,
                     uint64_t hi, std::string_view expected) {
  if (is_unsigned(v.type)) {
    if (v.u > hi) wrong_type(file, key, v, std::string(expected) + " (value " + std::to_string(v.u) + " out of range)");
    return static_cast<int64_t>(v.u);
  }
  if (is_signed(v.type)) {
    if (v.i < lo || (v.i > 0 && static_cast<uint64_t>(v.i) > hi)) {
      wrong_type(file, key, v, std::string(expected) + " (value " + std::to_string(v.i) + " out of range)");
    }
    return v.i;
  }
  wrong_type(file, key, v, expected);
}

}  // namespace

uint32_t gguf_file::get_u32(std::string_view key) const {
  return static_cast<uint32_t>(int_in_range(name(), key, require(key), 0, std::numeric_limits<uint32_t>::max(), "u32"));
}

int32_t gguf_file::get_i32(std::string_view key) const {
  return static_cast<int32_t>(int_in_range(name(), key, require(key), std::numeric_limits<int32_t>::min(),
                                           std::numeric_limits<int32_t>::max(), "i32"));
}

uint64_t gguf_file::get_u64(std::string_view key) const {
  const gguf_value& v = require(key);
  if (v.type == gguf_value_type::u64) return v.u;
  return static_cast<uint64_t>(int_in_range(name(), key, v, 0, std::numeric_limits<uint64_t>::max(), "u64"));
}

float gguf_file::get_f32(std::string_view key) const {
  const gguf_value& v = require(key);
  if (v.type != gguf_value_type::f32 && v.type != gguf_value_type::f64) wrong_type(name(), key, v, "f32");
  return static_cast<float>(v.f);
}

bool gguf_file::get_bool(std::string_view key) const {
  const gguf_value& v = require(key);
  if (v.type != gguf_value_type::boolean) wrong_type(name(), key, v, "bool");
  return v.u != 0;
}

std::string_view gguf_file::get_string(std::string_view key) const {
  const gguf_value& v = require(key);
  if (v.type != gguf_value_type::string) wrong_type(name(), key, v, "string");
  return v.str;
}

std::span<const std::string_view> gguf_file::get_string_array(std::string_view key) const {
  const gguf_value& v = require(key);
  if (v.type != gguf_value_type::array || v.element_type != gguf_value_type::string) {
    wrong_type(name(), key, v, "array of string");
  }
  return v.strings;
}

std::vector<int64_t> gguf_file::get_int_array(std::string_view key) const {
  const gguf_value& v = require(key);
  if (v.type != gguf_value_type::array || !(is_signed(v.element_type) || is_unsigned(v.element_type))) {
    wrong_type(name(), key, v, "array of integers");
  }
  std::vector<int64_t> out(v.count);
  for (uint64_t e = 0; e < v.count; ++e) out[e] = array_int(v, e);
  return out;
}

std::vector<float> gguf_file::get_f32_array(std::string_view key) const {
  const gguf_value& v = require(key);
  if (v.type != gguf_value_type::array ||
      (v.element_type != gguf_value_type::f32 && v.element_type != gguf_value_type::f64)) {
    wrong_type(name(), key, v, "array of f32");
  }
  std::vector<float> out(v.count);
  for (uint64_t e = 0; e < v.count; ++e) {
    out[e] = v.element_type == gguf_value_type::f32 ? read_le<float>(v.elements + 4 * e)
                                                    : static_cast<float>(read_le<double>(v.elements + 8 * e));
  }
  return out;
}

std::optional<uint32_t> gguf_file::find_u32(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return get_u32(key);
}
std::optional<float> gguf_file::find_f32(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return get_f32(key);
}
std::optional<bool> gguf_file::find_bool(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return get_bool(key);
}
std::optional<std::string_view> gguf_file::find_string(std::string_view key) const {
  if (!has(key)) return std::nullopt;
  return get_string(key);
}

const gguf_tensor* gguf_file::find_tensor(std::string_view tensor_name) const {
  const auto it = tensor_index_.find(tensor_name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace laneway::engine
