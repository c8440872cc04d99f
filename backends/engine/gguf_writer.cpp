// GGUF v3 writer (layout: docs/engine.md and facts.md; the reader is gguf_parser.cpp).
#include "backends/engine/gguf_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace laneway::engine {

namespace {

constexpr uint32_t gguf_magic = 0x46554747;  // "GGUF"
constexpr uint32_t gguf_version = 3;

std::size_t element_size(gguf_value_type t) {
  switch (t) {
    case gguf_value_type::u8: case gguf_value_type::i8: case gguf_value_type::boolean: return 1;
    case gguf_value_type::u16: case gguf_value_type::i16: return 2;
    case gguf_value_type::u32: case gguf_value_type::i32: case gguf_value_type::f32: return 4;
    case gguf_value_type::u64: case gguf_value_type::i64: case gguf_value_type::f64: return 8;
    case gguf_value_type::string: case gguf_value_type::array: return 0;
  }
  return 0;
}

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

gguf_writer::~gguf_writer() {
  if (file_) std::fclose(file_);
}

void gguf_writer::begin_kv(std::string_view key, gguf_value_type type) {
  if (file_) throw gguf_write_error("gguf writer: metadata '" + std::string(key) + "' added after open()");
  if (!keys_.emplace(key).second) throw gguf_write_error("gguf writer: metadata key '" + std::string(key) + "' added twice");
  put_string(key);
  const auto t = static_cast<uint32_t>(type);
  put(&t, 4);
  ++n_kv_;
}

void gguf_writer::put_string(std::string_view s) {
  const uint64_t n = s.size();
  put(&n, 8);
  put(s.data(), s.size());
}

#define LANEWAY_GGUF_SCALAR(fn, ctype, vtype) \
  void gguf_writer::fn(std::string_view key, ctype v) {  \
    begin_kv(key, gguf_value_type::vtype);               \
    put(&v, sizeof v);                                   \
  }
LANEWAY_GGUF_SCALAR(add_u8, uint8_t, u8)
LANEWAY_GGUF_SCALAR(add_i8, int8_t, i8)
LANEWAY_GGUF_SCALAR(add_u16, uint16_t, u16)
LANEWAY_GGUF_SCALAR(add_i16, int16_t, i16)
LANEWAY_GGUF_SCALAR(add_u32, uint32_t, u32)
LANEWAY_GGUF_SCALAR(add_i32, int32_t, i32)
LANEWAY_GGUF_SCALAR(add_f32, float, f32)
LANEWAY_GGUF_SCALAR(add_u64, uint64_t, u64)
LANEWAY_GGUF_SCALAR(add_i64, int64_t, i64)
LANEWAY_GGUF_SCALAR(add_f64, double, f64)
#undef LANEWAY_GGUF_SCALAR

void gguf_writer::add_bool(std::string_view key, bool v) {
  begin_kv(key, gguf_value_type::boolean);
  const uint8_t b = v ? 1 : 0;
  put(&b, 1);
}

void gguf_writer::add_string(std::string_view key, std::string_view v) {
  begin_kv(key, gguf_value_type::string);
  put_string(v);
}

void gguf_writer::add_array(std::string_view key, gguf_value_type element_type, uint64_t count, const void* elements) {
  const std::size_t size = element_size(element_type);
  if (size == 0)
    throw gguf_write_error("gguf writer: '" + std::string(key) + "': add_array takes numbers, not " +
                           std::string(to_string(element_type)));
  begin_kv(key, gguf_value_type::array);
  const auto t = static_cast<uint32_t>(element_type);
  put(&t, 4);
  put(&count, 8);
  put(elements, static_cast<std::size_t>(count) * size);
}

void gguf_writer::add_string_array(std::string_view key, std::span<const std::string_view> v) {
  begin_kv(key, gguf_value_type::array);
  const auto t = static_cast<uint32_t>(gguf_value_type::string);
  const uint64_t n = v.size();
  put(&t, 4);
  put(&n, 8);
  for (const auto s : v) put_string(s);
}

void gguf_writer::add_string_array(std::string_view key, std::span<const std::string> v) {
  std::vector<std::string_view> views(v.begin(), v.end());
  add_string_array(key, views);
}

void gguf_writer::copy(std::string_view key, const gguf_value& v) {
  switch (v.type) {
    case gguf_value_type::u8: return add_u8(key, static_cast<uint8_t>(v.u));
    case gguf_value_type::i8: return add_i8(key, static_cast<int8_t>(v.i));
    case gguf_value_type::u16: return add_u16(key, static_cast<uint16_t>(v.u));
    case gguf_value_type::i16: return add_i16(key, static_cast<int16_t>(v.i));
    case gguf_value_type::u32: return add_u32(key, static_cast<uint32_t>(v.u));
    case gguf_value_type::i32: return add_i32(key, static_cast<int32_t>(v.i));
    case gguf_value_type::f32: return add_f32(key, static_cast<float>(v.f));
    case gguf_value_type::boolean: return add_bool(key, v.u != 0);
    case gguf_value_type::string: return add_string(key, v.str);
    case gguf_value_type::u64: return add_u64(key, v.u);
    case gguf_value_type::i64: return add_i64(key, v.i);
    case gguf_value_type::f64: return add_f64(key, v.f);
    case gguf_value_type::array:
      if (v.element_type == gguf_value_type::string) return add_string_array(key, std::span<const std::string_view>(v.strings));
      if (element_size(v.element_type) == 0 || (v.count && !v.elements))
        throw gguf_write_error("gguf writer: cannot copy '" + std::string(key) + "': array of " +
                               std::string(to_string(v.element_type)));
      return add_array(key, v.element_type, v.count, v.elements);
  }
  throw gguf_write_error("gguf writer: cannot copy '" + std::string(key) + "': unknown type");
}

void gguf_writer::set_alignment(uint32_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw gguf_write_error("gguf writer: alignment must be a power of two, got " + std::to_string(alignment));
  if (!tensors_.empty()) throw gguf_write_error("gguf writer: set_alignment() after add_tensor()");
  add_u32("general.alignment", alignment);
  alignment_ = alignment;
}

std::size_t gguf_writer::add_tensor(std::string_view name, tensor_type type, std::span<const uint64_t> ne) {
  const std::string where = "gguf writer: tensor '" + std::string(name) + "'";
  if (file_) throw gguf_write_error(where + " added after open()");
  if (ne.empty() || ne.size() > 4) throw gguf_write_error(where + ": 1 to 4 dimensions, got " + std::to_string(ne.size()));
  for (const auto& t : tensors_)
    if (t.name == name) throw gguf_write_error(where + " added twice");
  const tensor_type_traits& tr = traits(type);
  uint64_t n = 1;
  std::array<uint64_t, 4> dims{1, 1, 1, 1};
  for (std::size_t d = 0; d < ne.size(); ++d) {
    if (ne[d] == 0 || ne[d] > (uint64_t{1} << 40) || n > (uint64_t{1} << 50) / ne[d])
      throw gguf_write_error(where + ": bad dimension ne[" + std::to_string(d) + "] = " + std::to_string(ne[d]));
    dims[d] = ne[d];
    n *= ne[d];
  }
  if (ne[0] % tr.block_size != 0)
    throw gguf_write_error(where + ": ne[0] = " + std::to_string(ne[0]) + " is not a multiple of the " +
                           std::string(tr.name) + " block size " + std::to_string(tr.block_size));
  const uint64_t bytes = n / tr.block_size * tr.block_bytes;
  tensors_.push_back({std::string(name), type, static_cast<uint32_t>(ne.size()), dims, data_size_, bytes});
  data_size_ = align_up(data_size_ + bytes, alignment_);
  return tensors_.size() - 1;
}

void gguf_writer::emit(const void* p, std::size_t n) {
  if (n && std::fwrite(p, 1, n, file_) != n)
    throw gguf_write_error("gguf writer: writing '" + path_ + "' failed: " + std::strerror(errno));
  written_ += n;
}

void gguf_writer::pad_to(uint64_t offset) {
  static const std::byte zeros[256] = {};
  while (written_ < offset) emit(zeros, static_cast<std::size_t>(std::min<uint64_t>(offset - written_, sizeof zeros)));
}

void gguf_writer::open(const std::string& path) {
  if (file_) throw gguf_write_error("gguf writer: open() twice");
  path_ = path;
  file_ = std::fopen(path.c_str(), "wb");
  if (!file_) throw gguf_write_error("gguf writer: cannot create '" + path + "': " + std::strerror(errno));
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
  const uint64_t n_tensors = tensors_.size();
  emit(&gguf_magic, 4);
  emit(&gguf_version, 4);
  emit(&n_tensors, 8);
  emit(&n_kv_, 8);
  emit(meta_.data(), meta_.size());
  for (const auto& t : tensors_) {
    const uint64_t len = t.name.size();
    emit(&len, 8);
    emit(t.name.data(), t.name.size());
    emit(&t.n_dims, 4);
    emit(t.ne.data(), 8 * t.n_dims);
    const auto type = static_cast<uint32_t>(t.type);
    emit(&type, 4);
    emit(&t.offset, 8);
  }
  data_start_ = align_up(written_, alignment_);
  pad_to(data_start_);
  current_ = 0;
  current_done_ = 0;
}

void gguf_writer::write_data(std::span<const std::byte> b) {
  if (!file_) throw gguf_write_error("gguf writer: write_data() before open()");
  while (!b.empty()) {
    if (current_ >= tensors_.size())
      throw gguf_write_error("gguf writer: " + std::to_string(b.size()) + " bytes of data past the last tensor");
    const tensor_info& t = tensors_[current_];
    const auto take = static_cast<std::size_t>(std::min<uint64_t>(b.size(), t.n_bytes - current_done_));
    emit(b.data(), take);
    b = b.subspan(take);
    current_done_ += take;
    if (current_done_ == t.n_bytes) {
      ++current_;
      current_done_ = 0;
      pad_to(data_start_ + (current_ < tensors_.size() ? tensors_[current_].offset : data_size_));
    }
  }
}

void gguf_writer::close() {
  if (!file_) throw gguf_write_error("gguf writer: close() before open()");
  if (current_ < tensors_.size()) {
    const std::string msg = "gguf writer: '" + path_ + "': tensor '" + tensors_[current_].name + "' got " +
                            std::to_string(current_done_) + " of its " + std::to_string(tensors_[current_].n_bytes) + " bytes";
    std::fclose(file_);
    file_ = nullptr;
    throw gguf_write_error(msg);
  }
  pad_to(data_start_ + data_size_);
  const bool ok = std::fflush(file_) == 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok || !closed) throw gguf_write_error("gguf writer: finishing '" + path_ + "' failed: " + std::strerror(errno));
}

}  // namespace laneway::engine
