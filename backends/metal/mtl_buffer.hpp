// One MTLBuffer in shared storage: the CPU and the GPU see the same memory (unified memory on
// Apple silicon; system memory on an Intel Mac's discrete GPU), so uploads and read-backs are
// plain memcpy and there is no staging. Either allocated by Metal (zeroed) or wrapping memory the
// caller owns without a copy (the mmapped weights, mtl_weights).
#pragma once

#include <cstddef>
#include <memory>

#include "backends/metal/mtl_context.hpp"

namespace laneway::metal {

class mtl_buffer {
 public:
  struct objc;  // id<MTLBuffer> (mtl_native.h)

  mtl_buffer();
  // Throws std::runtime_error when Metal cannot allocate (naming the bytes and the device).
  mtl_buffer(mtl_context& ctx, std::size_t bytes);
  // Wraps [data, data + bytes) without copying: data page-aligned and bytes a whole number of
  // pages (newBufferWithBytesNoCopy's rule), the memory outliving the buffer; the GPU only reads
  // it. Throws std::invalid_argument when unaligned, std::runtime_error when Metal refuses.
  static mtl_buffer wrap(mtl_context& ctx, const void* data, std::size_t bytes);
  ~mtl_buffer();
  mtl_buffer(mtl_buffer&& o) noexcept;
  mtl_buffer& operator=(mtl_buffer&& o) noexcept;

  std::size_t size() const { return size_; }
  void* contents() const { return contents_; }  // the CPU's view of the buffer
  void write(std::size_t offset, const void* src, std::size_t bytes);
  objc* native() const { return objc_.get(); }

  static std::size_t page_size();

 private:
  std::unique_ptr<objc> objc_;
  std::size_t size_ = 0;
  void* contents_ = nullptr;
};

}  // namespace laneway::metal
