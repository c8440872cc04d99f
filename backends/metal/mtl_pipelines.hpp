// One compute pipeline per kernel (backends/gpu/kernels.hpp), built once per device from the
// MSL that spirv-cross generated from the kernel's SPIR-V at build time (embedded,
// gpu::kernel_msl). Each kernel's source is compiled at start-up with newLibraryWithSource (MSL
// 2.1, fast math off: the kernels rely on IEEE infinities and exact f16 rounding, as on Vulkan),
// so building needs no Xcode Metal compiler; the gpu.msl test compiles the same files with
// `xcrun metal` where it exists. Bindings: buffer i at [[buffer(i)]], the params block at
// [[buffer(gpu::msl_params_index)]] (docs/gpu.md, "Metal").
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "backends/gpu/kernels.hpp"
#include "backends/metal/mtl_context.hpp"

namespace laneway::metal {

class mtl_pipelines {
 public:
  struct objc;  // id<MTLComputePipelineState> per kernel (mtl_native.h)
  struct entry {
    uint32_t n_bindings = 0;  // buffers 0 .. n_bindings-1
    uint32_t push_bytes = 0;  // size of the kernel's params block
  };

  explicit mtl_pipelines(mtl_context& ctx);  // throws std::runtime_error naming the kernel and Metal's message
  ~mtl_pipelines();
  mtl_pipelines(const mtl_pipelines&) = delete;
  mtl_pipelines& operator=(const mtl_pipelines&) = delete;

  const entry& operator[](gpu::kernel k) const { return entries_[static_cast<std::size_t>(k)]; }
  objc& native() const { return *objc_; }

 private:
  std::unique_ptr<objc> objc_;
  std::array<entry, gpu::kernel_count> entries_{};
};

}  // namespace laneway::metal
