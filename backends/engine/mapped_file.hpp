// A read-only view of a whole file: mmap(2) of a path, or an owned in-memory copy (tests use the
// latter to feed truncated or corrupted bytes; ASan then catches any read past the end).
// Both expose the same span of bytes; the object owns whatever backs it and is move-only.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace laneway::engine {

class mapped_file {
 public:
  // Maps `path` read-only. Throws std::runtime_error naming the path and errno text on failure.
  static mapped_file open(const std::string& path);
  // Takes ownership of `bytes` (an exact-size heap buffer, so overreads are detectable).
  static mapped_file from_bytes(std::vector<std::byte> bytes, std::string name);

  mapped_file() = default;
  mapped_file(mapped_file&& other) noexcept;
  mapped_file& operator=(mapped_file&& other) noexcept;
  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  ~mapped_file();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  std::size_t size() const { return size_; }
  const std::string& name() const { return name_; }

 private:
  void release();

  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool is_mapped_ = false;        // true: data_ came from mmap and is munmap'ed on release
  std::vector<std::byte> owned_;  // backing store when !is_mapped_
  std::string name_;
};

}  // namespace laneway::engine
