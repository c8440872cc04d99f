// One command buffer: the dispatches of a scheduler step (or of an op test), in one compute
// encoder of concurrent dispatch type with explicit buffer barriers between dependent dispatches
// (as vk_step's pipeline barriers), committed once and waited for (bounded). The forward pass
// records one of these per decode(batch); the op tests record one per op.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>

#include "backends/gpu/kernels.hpp"
#include "backends/metal/mtl_context.hpp"
#include "backends/metal/mtl_pipelines.hpp"

namespace laneway::metal {

class mtl_buffer;

// A buffer binding: the buffer from byte `offset` on (a multiple of 4: the kernels read words).
struct binding {
  const mtl_buffer* buffer = nullptr;
  std::size_t offset = 0;
  binding(const mtl_buffer& b, std::size_t off = 0) : buffer(&b), offset(off) {}  // NOLINT: implicit on purpose
};

class mtl_step {
 public:
  struct objc;  // id<MTLCommandBuffer>, id<MTLComputeCommandEncoder> (mtl_native.h)

  explicit mtl_step(mtl_context& ctx);
  ~mtl_step();
  mtl_step(const mtl_step&) = delete;
  mtl_step& operator=(const mtl_step&) = delete;

  void begin();  // a new command buffer and its compute encoder
  // Binds kernel k with `buffers` (indices 0, 1, ...) and `params` (at gpu::msl_params_index),
  // and runs `groups` threadgroups of gpu::workgroup_size (spread over x and y, see common.glsl)
  // times groups_z.
  template <class Params>
  void dispatch(const mtl_pipelines& p, gpu::kernel k, std::initializer_list<binding> buffers, const Params& params,
                uint32_t groups, uint32_t groups_z = 1) {
    dispatch_raw(p, k, buffers, &params, sizeof(Params), groups, groups_z);
  }
  // Makes every earlier dispatch's buffer writes visible to every later dispatch.
  void barrier();
  // Ends encoding, commits, waits for completion (throws std::runtime_error on a command-buffer
  // error or when the step takes longer than `timeout`). Shader writes are visible to the CPU after.
  void submit_and_wait(std::chrono::milliseconds timeout = std::chrono::minutes(2));

  uint32_t dispatches() const { return dispatches_; }

 private:
  void dispatch_raw(const mtl_pipelines& p, gpu::kernel k, std::initializer_list<binding> buffers, const void* params,
                    uint32_t bytes, uint32_t groups, uint32_t groups_z);

  mtl_context& ctx_;
  std::unique_ptr<objc> objc_;
  uint32_t dispatches_ = 0;
};

// ceil(a / b) for grid sizes.
constexpr uint32_t div_up(uint64_t a, uint64_t b) { return static_cast<uint32_t>((a + b - 1) / b); }

}  // namespace laneway::metal
