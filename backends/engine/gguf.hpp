// GGUF v3 model files: header, typed metadata key/values, tensor infos and the data section,
// read over a mapped_file. Every count, length, offset and extent is checked against the file
// size before it is read; a malformed file throws gguf_error naming what, where and the offset.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "backends/engine/mapped_file.hpp"

namespace laneway::engine {

// Load-time failure: bad magic, truncated data, wrong metadata type, unsupported tensor type...
class gguf_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class gguf_value_type : uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7,
  string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};
std::string_view to_string(gguf_value_type t);

enum class tensor_type : uint32_t {
  f32 = 0, f16 = 1, q4_0 = 2, q8_0 = 8, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15, bf16 = 30,
};

struct tensor_type_traits {
  tensor_type type;
  std::string_view name;
  uint32_t block_size;   // values per block
  uint32_t block_bytes;  // bytes per block
};
// nullptr when `raw` is not one of the supported types.
const tensor_type_traits* find_tensor_type(uint32_t raw);
const tensor_type_traits& traits(tensor_type t);
std::string supported_tensor_types();  // "F32 (0), F16 (1), ..." for error messages

// One metadata value. Scalars are widened into the matching field; strings and string arrays
// are views into the mapped file; numeric arrays keep a pointer to their little-endian elements.
struct gguf_value {
  gguf_value_type type = gguf_value_type::u8;
  gguf_value_type element_type = gguf_value_type::u8;  // for arrays
  uint64_t count = 0;                                  // array length
  uint64_t u = 0;                                      // unsigned ints, bool
  int64_t i = 0;                                       // signed ints
  double f = 0;                                        // f32, f64
  std::string_view str;                                // string
  std::vector<std::string_view> strings;               // array of string
  const std::byte* elements = nullptr;                 // array of numbers: raw elements
  uint64_t offset = 0;                                 // file offset of the value
};

struct gguf_tensor {
  std::string_view name;
  tensor_type type = tensor_type::f32;
  uint32_t n_dims = 0;
  std::array<uint64_t, 4> ne{1, 1, 1, 1};  // ne[0] = row length (contiguous)
  uint64_t offset = 0;                     // from the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const std::byte* data = nullptr;  // into the mapped file
};

class gguf_file {
 public:
  static gguf_file open(const std::string& path);  // mmap + parse
  static gguf_file parse(mapped_file file);        // parse bytes already in memory

  const std::string& name() const { return file_.name(); }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  std::span<const std::byte> bytes() const { return file_.bytes(); }

  // Metadata, in file order.
  const std::vector<std::pair<std::string_view, gguf_value>>& metadata() const { return kv_; }
  const gguf_value* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed accessors: throw gguf_error naming the key when it is missing or of another type.
  // Integer getters accept any integer type whose value fits the requested one.
  uint32_t get_u32(std::string_view key) const;
  int32_t get_i32(std::string_view key) const;
  uint64_t get_u64(std::string_view key) const;
  float get_f32(std::string_view key) const;  // f32 or f64
  bool get_bool(std::string_view key) const;
  std::string_view get_string(std::string_view key) const;
  std::span<const std::string_view> get_string_array(std::string_view key) const;
  std::vector<int64_t> get_int_array(std::string_view key) const;
  std::vector<float> get_f32_array(std::string_view key) const;
  // Optional variants: nullopt when absent, gguf_error when present with the wrong type.
  std::optional<uint32_t> find_u32(std::string_view key) const;
  std::optional<float> find_f32(std::string_view key) const;
  std::optional<bool> find_bool(std::string_view key) const;
  std::optional<std::string_view> find_string(std::string_view key) const;

  const std::vector<gguf_tensor>& tensors() const { return tensors_; }
  const gguf_tensor* find_tensor(std::string_view name) const;

 private:
  friend class gguf_parser;
  const gguf_value& require(std::string_view key) const;

  mapped_file file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string_view, gguf_value>> kv_;
  std::unordered_map<std::string_view, std::size_t> kv_index_;
  std::vector<gguf_tensor> tensors_;
  std::unordered_map<std::string_view, std::size_t> tensor_index_;
};

}  // namespace laneway::engine
