// The Metal device and one command queue: what every other part of the Metal host borrows.
// Device choice: MTLCreateSystemDefaultDevice (on a Mac with several GPUs, the one the system
// prefers; every Apple-silicon Mac has exactly one). Plain C++ so that the forward pass and the
// tests need no Objective-C; the Metal objects live behind native() (mtl_native.h).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace laneway::metal {

class mtl_context {
 public:
  struct objc;  // id<MTLDevice>, id<MTLCommandQueue> (mtl_native.h)

  // Throws std::runtime_error when there is no Metal device or no queue.
  static std::unique_ptr<mtl_context> create();
  // The device create() would use, as "name (unified memory)" or "name"; nullopt and why otherwise.
  static std::optional<std::string> probe(std::string* why);
  ~mtl_context();
  mtl_context(const mtl_context&) = delete;
  mtl_context& operator=(const mtl_context&) = delete;

  const std::string& name() const { return name_; }
  bool unified_memory() const { return unified_; }
  std::size_t max_buffer_bytes() const { return max_buffer_; }  // MTLDevice.maxBufferLength
  objc& native() const { return *objc_; }

 private:
  mtl_context();

  std::unique_ptr<objc> objc_;
  std::string name_;
  bool unified_ = false;
  std::size_t max_buffer_ = 0;
};

}  // namespace laneway::metal
