// Shared-storage buffers and no-copy wrapping (see mtl_buffer.hpp).
#include "backends/metal/mtl_native.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace laneway::metal {

std::size_t mtl_buffer::page_size() { return static_cast<std::size_t>(getpagesize()); }

mtl_buffer::mtl_buffer() = default;
mtl_buffer::~mtl_buffer() = default;
mtl_buffer::mtl_buffer(mtl_buffer&& o) noexcept = default;
mtl_buffer& mtl_buffer::operator=(mtl_buffer&& o) noexcept = default;

// Sizes are rounded up to whole 16-byte units, as on Vulkan (the kernels read uint words).
mtl_buffer::mtl_buffer(mtl_context& ctx, std::size_t bytes)
    : objc_(std::make_unique<objc>()), size_((std::max<std::size_t>(bytes, 16) + 15) & ~std::size_t{15}) {
  @autoreleasepool {
    objc_->buffer = [ctx.native().device newBufferWithLength:size_ options:MTLResourceStorageModeShared];
  }
  if (objc_->buffer == nil) {
    throw std::runtime_error("Metal: cannot allocate " + std::to_string(size_) + " bytes on " + ctx.name());
  }
  contents_ = objc_->buffer.contents;
}

mtl_buffer mtl_buffer::wrap(mtl_context& ctx, const void* data, std::size_t bytes) {
  const std::size_t page = page_size();
  if (reinterpret_cast<std::uintptr_t>(data) % page != 0 || bytes % page != 0 || bytes == 0) {
    throw std::invalid_argument("Metal: a no-copy buffer needs a page-aligned pointer and length");
  }
  mtl_buffer b;
  b.objc_ = std::make_unique<objc>();
  @autoreleasepool {
    // deallocator nil: the caller keeps owning (and unmapping) the memory.
    b.objc_->buffer = [ctx.native().device newBufferWithBytesNoCopy:const_cast<void*>(data)
                                                             length:bytes
                                                            options:MTLResourceStorageModeShared
                                                        deallocator:nil];
  }
  if (b.objc_->buffer == nil) {
    throw std::runtime_error("Metal: cannot wrap " + std::to_string(bytes) + " bytes without a copy on " + ctx.name());
  }
  b.size_ = bytes;
  b.contents_ = b.objc_->buffer.contents;
  return b;
}

void mtl_buffer::write(std::size_t offset, const void* src, std::size_t bytes) {
  if (offset + bytes > size_) throw std::out_of_range("mtl_buffer::write past the end");
  std::memcpy(static_cast<std::byte*>(contents_) + offset, src, bytes);
}

}  // namespace laneway::metal
