// Writes GGUF v3 files, the inverse of gguf_file: typed metadata (every value type, arrays
// included), tensor infos with aligned offsets, then the tensor data streamed to disk in the order
// the tensors were added, so a model never has to sit in memory whole.
// Use: add metadata and tensors; open(path) writes header, metadata, tensor infos and padding;
// write_data() the bytes of each tensor in order (in as many chunks as convenient); close().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "backends/engine/gguf.hpp"

namespace laneway::engine {

class gguf_write_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class gguf_writer {
 public:
  gguf_writer() = default;
  ~gguf_writer();  // closes the file if still open (without the completeness check)
  gguf_writer(const gguf_writer&) = delete;
  gguf_writer& operator=(const gguf_writer&) = delete;

  // ---- metadata (before open); a key may be added once --------------------------------------
  void add_u8(std::string_view key, uint8_t v);
  void add_i8(std::string_view key, int8_t v);
  void add_u16(std::string_view key, uint16_t v);
  void add_i16(std::string_view key, int16_t v);
  void add_u32(std::string_view key, uint32_t v);
  void add_i32(std::string_view key, int32_t v);
  void add_f32(std::string_view key, float v);
  void add_bool(std::string_view key, bool v);
  void add_string(std::string_view key, std::string_view v);
  void add_u64(std::string_view key, uint64_t v);
  void add_i64(std::string_view key, int64_t v);
  void add_f64(std::string_view key, double v);
  // Arrays of numbers: element_type a numeric or bool type; `elements` count * size bytes, LE.
  void add_array(std::string_view key, gguf_value_type element_type, uint64_t count, const void* elements);
  void add_string_array(std::string_view key, std::span<const std::string_view> v);
  void add_string_array(std::string_view key, std::span<const std::string> v);
  // Copies one key of a loaded file, whatever its type.
  void copy(std::string_view key, const gguf_value& v);
  // general.alignment (a power of two, default 32): also written as that u32 key.
  void set_alignment(uint32_t alignment);

  // ---- tensors (before open) -----------------------------------------------------------------
  // ne[0] = row length; n_dims 1..4. ne[0] must be a multiple of the type's block size.
  // Returns the tensor's index; its data offset is fixed here (aligned).
  std::size_t add_tensor(std::string_view name, tensor_type type, std::span<const uint64_t> ne);
  uint64_t tensor_bytes(std::size_t index) const { return tensors_.at(index).n_bytes; }
  std::size_t n_tensors() const { return tensors_.size(); }

  // ---- output ---------------------------------------------------------------------------------
  void open(const std::string& path);            // header + metadata + infos + padding
  void write_data(std::span<const std::byte> b);  // next bytes of the current tensor(s), in order
  void close();  // checks every tensor got exactly its bytes; pads the end; flushes
  uint64_t bytes_written() const { return written_; }

 private:
  struct tensor_info {
    std::string name;
    tensor_type type;
    uint32_t n_dims;
    std::array<uint64_t, 4> ne;
    uint64_t offset;   // from the start of the data section
    uint64_t n_bytes;
  };
  void begin_kv(std::string_view key, gguf_value_type type);
  void put(const void* p, std::size_t n) { const auto* b = static_cast<const std::byte*>(p); meta_.insert(meta_.end(), b, b + n); }
  void put_string(std::string_view s);
  void emit(const void* p, std::size_t n);
  void pad_to(uint64_t multiple);

  std::vector<std::byte> meta_;  // serialized key/values
  uint64_t n_kv_ = 0;
  std::unordered_set<std::string> keys_;
  std::vector<tensor_info> tensors_;
  uint64_t data_size_ = 0;  // aligned end of the last tensor
  uint32_t alignment_ = 32;

  std::FILE* file_ = nullptr;
  std::string path_;
  uint64_t written_ = 0;      // bytes written to the file
  uint64_t data_start_ = 0;   // file offset of the data section
  std::size_t current_ = 0;   // tensor being written
  uint64_t current_done_ = 0; // its bytes so far
};

}  // namespace laneway::engine
