// mmap-backed (or in-memory) read-only file bytes; see mapped_file.hpp.
#include "backends/engine/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace laneway::engine {

namespace {

std::runtime_error io_error(const std::string& path, const char* what) {
  return std::runtime_error(path + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

mapped_file mapped_file::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw io_error(path, "cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    auto err = io_error(path, "cannot stat");
    ::close(fd);
    throw err;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::runtime_error(path + ": not a regular file");
  }
  mapped_file f;
  f.name_ = path;
  f.size_ = static_cast<std::size_t>(st.st_size);
  if (f.size_ > 0) {
    void* p = ::mmap(nullptr, f.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      auto err = io_error(path, "cannot mmap");
      ::close(fd);
      throw err;
    }
    f.data_ = static_cast<const std::byte*>(p);
    f.is_mapped_ = true;
  }
  ::close(fd);  // the mapping stays valid after close
  return f;
}

mapped_file mapped_file::from_bytes(std::vector<std::byte> bytes, std::string name) {
  mapped_file f;
  f.owned_ = std::move(bytes);
  f.data_ = f.owned_.data();
  f.size_ = f.owned_.size();
  f.name_ = std::move(name);
  return f;
}

mapped_file::mapped_file(mapped_file&& other) noexcept { *this = std::move(other); }

mapped_file& mapped_file::operator=(mapped_file&& other) noexcept {
  if (this == &other) return *this;
  release();
  is_mapped_ = other.is_mapped_;
  owned_ = std::move(other.owned_);
  size_ = other.size_;
  data_ = is_mapped_ ? other.data_ : owned_.data();
  name_ = std::move(other.name_);
  other.data_ = nullptr;
  other.size_ = 0;
  other.is_mapped_ = false;
  return *this;
}

mapped_file::~mapped_file() { release(); }

void mapped_file::release() {
  if (is_mapped_ && data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
  is_mapped_ = false;
  owned_.clear();
}

}  // namespace laneway::engine
