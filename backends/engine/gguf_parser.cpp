// Parses a GGUF v3 file into gguf_file. The layout (little-endian):
//   u32 magic "GGUF", u32 version (3), u64 n_tensors, u64 n_kv,
//   n_kv x { string key, u32 type, value }, n_tensors x { string name, u32 n_dims, u64 ne[n_dims],
//   u32 type, u64 offset }, padding to general.alignment (default 32), then the data section.
// A string is u64 length + bytes; an array is u32 element type + u64 count + elements (arrays of
// arrays are rejected). The cursor checks every read against the file size first, and every
// count is bounded by the bytes left before anything is reserved, so a hostile header cannot make
// us allocate or read more than the file holds. Errors name the key/tensor and the byte offset.
#include <bit>
#include <cstring>
#include <limits>
#include <utility>

#include "backends/engine/gguf.hpp"

namespace laneway::engine {

namespace {

constexpr uint32_t gguf_magic = 0x46554747;  // "GGUF" read as little-endian u32
constexpr uint64_t max_name_length = 1u << 16;
constexpr uint64_t default_alignment = 32;

std::string hex_offset(uint64_t off) { return "byte offset " + std::to_string(off); }

// Bounds-checked little-endian reader over the file bytes.
class cursor {
 public:
  cursor(std::span<const std::byte> bytes, const std::string& file) : bytes_(bytes), file_(file) {}

  uint64_t pos() const { return pos_; }
  uint64_t left() const { return bytes_.size() - pos_; }

  [[noreturn]] void fail(const std::string& what, uint64_t at) const {
    throw gguf_error(file_ + ": " + what + " at " + hex_offset(at) + " (file is " +
                     std::to_string(bytes_.size()) + " bytes)");
  }

  void need(uint64_t n, const std::string& what) const {
    if (n > left()) fail("truncated " + what + " (needs " + std::to_string(n) + " bytes, " +
                         std::to_string(left()) + " left)", pos_);
  }

  template <typename T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));  // host is little-endian (checked below)
    pos_ += sizeof(T);
    return v;
  }

  std::string_view read_string(const std::string& what) {
    const uint64_t at = pos_;
    const uint64_t n = read<uint64_t>(what + " length");
    if (n > left()) fail(what + " length " + std::to_string(n) + " runs past the end of the file", at);
    std::string_view s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return s;
  }

  const std::byte* skip(uint64_t n, const std::string& what) {
    need(n, what);
    const std::byte* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }

 private:
  std::span<const std::byte> bytes_;
  const std::string& file_;
  uint64_t pos_ = 0;
};

uint64_t scalar_size(gguf_value_type t) {
  switch (t) {
    case gguf_value_type::u8: case gguf_value_type::i8: case gguf_value_type::boolean: return 1;
    case gguf_value_type::u16: case gguf_value_type::i16: return 2;
    case gguf_value_type::u32: case gguf_value_type::i32: case gguf_value_type::f32: return 4;
    case gguf_value_type::u64: case gguf_value_type::i64: case gguf_value_type::f64: return 8;
    default: return 0;  // string, array: variable
  }
}

bool valid_value_type(uint32_t t) { return t <= 12; }

void read_scalar(cursor& c, gguf_value_type t, gguf_value& v, const std::string& what) {
  switch (t) {
    case gguf_value_type::u8: v.u = c.read<uint8_t>(what); break;
    case gguf_value_type::i8: v.i = c.read<int8_t>(what); break;
    case gguf_value_type::u16: v.u = c.read<uint16_t>(what); break;
    case gguf_value_type::i16: v.i = c.read<int16_t>(what); break;
    case gguf_value_type::u32: v.u = c.read<uint32_t>(what); break;
    case gguf_value_type::i32: v.i = c.read<int32_t>(what); break;
    case gguf_value_type::u64: v.u = c.read<uint64_t>(what); break;
    case gguf_value_type::i64: v.i = c.read<int64_t>(what); break;
    case gguf_value_type::f32: v.f = c.read<float>(what); break;
    case gguf_value_type::f64: v.f = c.read<double>(what); break;
    case gguf_value_type::boolean: {
      const uint64_t at = c.pos();
      const uint8_t b = c.read<uint8_t>(what);
      if (b > 1) c.fail(what + ": bool value " + std::to_string(b) + " is not 0 or 1", at);
      v.u = b;
      break;
    }
    case gguf_value_type::string: v.str = c.read_string(what); break;
    case gguf_value_type::array: break;  // handled by the caller
  }
}

}  // namespace

class gguf_parser {
 public:
  explicit gguf_parser(gguf_file& f) : f_(f), c_(f.file_.bytes(), f.file_.name()) {}

  void run() {
    static_assert(std::endian::native == std::endian::little, "GGUF reader assumes little-endian");
    if (f_.file_.size() == 0) throw gguf_error(f_.file_.name() + ": file is empty");
    const uint32_t magic = c_.read<uint32_t>("header magic");
    if (magic != gguf_magic) c_.fail("not a GGUF file (bad magic)", 0);
    f_.version_ = c_.read<uint32_t>("header version");
    if (f_.version_ != 3) {
      c_.fail("unsupported GGUF version " + std::to_string(f_.version_) + " (only 3 is supported)", 4);
    }
    const uint64_t n_tensors = c_.read<uint64_t>("header tensor count");
    const uint64_t n_kv = c_.read<uint64_t>("header key/value count");
    // Smallest possible entries: kv = 8 (key length) + 4 (type) + 1; tensor = 8 + 4 + 8 + 4 + 8.
    if (n_kv > c_.left() / 13) c_.fail("key/value count " + std::to_string(n_kv) + " exceeds what the file can hold", 16);
    if (n_tensors > c_.left() / 32) c_.fail("tensor count " + std::to_string(n_tensors) + " exceeds what the file can hold", 8);
    read_metadata(n_kv);
    read_alignment();
    read_tensor_infos(n_tensors);
    place_data_section();
  }

 private:
  void read_metadata(uint64_t n_kv) {
    f_.kv_.reserve(n_kv);
    for (uint64_t k = 0; k < n_kv; ++k) {
      const uint64_t at = c_.pos();
      const std::string_view key = c_.read_string("key #" + std::to_string(k));
      const std::string where = "key '" + std::string(key) + "'";
      if (f_.kv_index_.count(key)) c_.fail("duplicate " + where, at);
      const uint64_t type_at = c_.pos();
      const uint32_t raw_type = c_.read<uint32_t>(where + " type");
      if (!valid_value_type(raw_type)) c_.fail(where + ": unknown value type " + std::to_string(raw_type), type_at);
      gguf_value v;
      v.type = static_cast<gguf_value_type>(raw_type);
      v.offset = c_.pos();
      if (v.type == gguf_value_type::array) {
        read_array(v, where);
      } else {
        read_scalar(c_, v.type, v, where + " value");
      }
      f_.kv_index_.emplace(key, f_.kv_.size());
      f_.kv_.emplace_back(key, std::move(v));
    }
  }

  void read_array(gguf_value& v, const std::string& where) {
    const uint64_t at = c_.pos();
    const uint32_t raw = c_.read<uint32_t>(where + " array element type");
    if (!valid_value_type(raw)) c_.fail(where + ": unknown array element type " + std::to_string(raw), at);
    v.element_type = static_cast<gguf_value_type>(raw);
    if (v.element_type == gguf_value_type::array) c_.fail(where + ": nested arrays are not supported", at);
    const uint64_t count_at = c_.pos();
    v.count = c_.read<uint64_t>(where + " array count");
    if (v.element_type == gguf_value_type::string) {
      if (v.count > c_.left() / 8) {
        c_.fail(where + ": array count " + std::to_string(v.count) + " runs past the end of the file", count_at);
      }
      v.strings.reserve(v.count);
      for (uint64_t e = 0; e < v.count; ++e) {
        v.strings.push_back(c_.read_string(where + " element #" + std::to_string(e)));
      }
      return;
    }
    const uint64_t size = scalar_size(v.element_type);
    if (v.count > c_.left() / size) {
      c_.fail(where + ": array of " + std::to_string(v.count) + " " +
                  std::string(to_string(v.element_type)) + " runs past the end of the file", count_at);
    }
    v.elements = c_.skip(v.count * size, where + " array elements");
    if (v.element_type == gguf_value_type::boolean) {
      for (uint64_t e = 0; e < v.count; ++e) {
        if (static_cast<uint8_t>(v.elements[e]) > 1) c_.fail(where + ": bool element is not 0 or 1", v.offset + 12 + e);
      }
    }
  }

  void read_alignment() {
    const gguf_value* a = f_.find("general.alignment");
    if (a == nullptr) return;
    if (a->type != gguf_value_type::u32) {
      c_.fail("key 'general.alignment' has type " + std::string(to_string(a->type)) + ", expected u32", a->offset);
    }
    if (a->u == 0 || (a->u & (a->u - 1)) != 0) {
      c_.fail("key 'general.alignment' = " + std::to_string(a->u) + " is not a power of two", a->offset);
    }
    f_.alignment_ = a->u;
  }

  void read_tensor_infos(uint64_t n_tensors) {
    f_.tensors_.reserve(n_tensors);
    for (uint64_t t = 0; t < n_tensors; ++t) {
      const uint64_t at = c_.pos();
      gguf_tensor info;
      info.name = c_.read_string("tensor #" + std::to_string(t) + " name");
      const std::string where = "tensor '" + std::string(info.name) + "'";
      if (info.name.size() > max_name_length) c_.fail(where + ": name too long", at);
      if (f_.tensor_index_.count(info.name)) c_.fail("duplicate " + where, at);
      const uint64_t dims_at = c_.pos();
      info.n_dims = c_.read<uint32_t>(where + " n_dims");
      if (info.n_dims == 0 || info.n_dims > 4) {
        c_.fail(where + ": n_dims " + std::to_string(info.n_dims) + " not in 1..4", dims_at);
      }
      uint64_t n = 1;
      for (uint32_t d = 0; d < info.n_dims; ++d) {
        const uint64_t ne_at = c_.pos();
        info.ne[d] = c_.read<uint64_t>(where + " ne[" + std::to_string(d) + "]");
        if (info.ne[d] == 0 || info.ne[d] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / n) {
          c_.fail(where + ": dimension ne[" + std::to_string(d) + "] = " + std::to_string(info.ne[d]) +
                      " is zero or overflows", ne_at);
        }
        n *= info.ne[d];
      }
      info.n_elements = n;
      const uint64_t type_at = c_.pos();
      const uint32_t raw_type = c_.read<uint32_t>(where + " type");
      const tensor_type_traits* tt = find_tensor_type(raw_type);
      if (tt == nullptr) {
        c_.fail(where + ": unsupported tensor type " + std::to_string(raw_type) + " (supported: " +
                    supported_tensor_types() + ")", type_at);
      }
      info.type = tt->type;
      if (info.ne[0] % tt->block_size != 0) {
        c_.fail(where + ": row length ne[0] = " + std::to_string(info.ne[0]) + " is not a multiple of the " +
                    std::string(tt->name) + " block size " + std::to_string(tt->block_size), dims_at);
      }
      info.n_bytes = n / tt->block_size * tt->block_bytes;  // n / block_size < 2^63, * <= 210: checked below
      if (n / tt->block_size > std::numeric_limits<uint64_t>::max() / tt->block_bytes) {
        c_.fail(where + ": size overflows", dims_at);
      }
      const uint64_t off_at = c_.pos();
      info.offset = c_.read<uint64_t>(where + " data offset");
      if (info.offset % f_.alignment_ != 0) {
        c_.fail(where + ": data offset " + std::to_string(info.offset) + " is not a multiple of the alignment " +
                    std::to_string(f_.alignment_), off_at);
      }
      offsets_at_.push_back(off_at);
      f_.tensor_index_.emplace(info.name, f_.tensors_.size());
      f_.tensors_.push_back(info);
    }
  }

  void place_data_section() {
    const uint64_t end_of_infos = c_.pos();
    const uint64_t size = f_.file_.size();
    const uint64_t a = f_.alignment_;
    f_.data_offset_ = end_of_infos + (a - end_of_infos % a) % a;
    if (f_.tensors_.empty()) return;  // vocab-only files may end right after the infos
    if (f_.data_offset_ > size) c_.fail("data section starts past the end of the file", end_of_infos);
    const uint64_t data_size = size - f_.data_offset_;
    for (std::size_t t = 0; t < f_.tensors_.size(); ++t) {
      gguf_tensor& info = f_.tensors_[t];
      if (info.offset > data_size || info.n_bytes > data_size - info.offset) {
        c_.fail("tensor '" + std::string(info.name) + "': data [" + std::to_string(f_.data_offset_ + info.offset) +
                    ", +" + std::to_string(info.n_bytes) + ") runs past the end of the file", offsets_at_[t]);
      }
      info.data = f_.file_.bytes().data() + f_.data_offset_ + info.offset;
    }
  }

  gguf_file& f_;
  cursor c_;
  std::vector<uint64_t> offsets_at_;  // where each tensor's offset field sits, for messages
};

gguf_file gguf_file::parse(mapped_file file) {
  gguf_file f;
  f.file_ = std::move(file);
  gguf_parser(f).run();
  return f;
}

gguf_file gguf_file::open(const std::string& path) {
  mapped_file m;
  try {
    m = mapped_file::open(path);
  } catch (const std::runtime_error& e) {
    throw gguf_error(e.what());
  }
  return parse(std::move(m));
}

}  // namespace laneway::engine
