// Command-buffer encoding, barriers and bounded completion (see mtl_step.hpp).
#include "backends/metal/mtl_native.h"

#include <dispatch/dispatch.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "backends/gpu/kernel_params.hpp"

namespace laneway::metal {

mtl_step::mtl_step(mtl_context& ctx) : ctx_(ctx), objc_(std::make_unique<objc>()) {}

mtl_step::~mtl_step() {
  // A step begun and never submitted (an exception while recording): close its encoder.
  if (objc_->enc != nil) [objc_->enc endEncoding];
}

void mtl_step::begin() {
  if (objc_->enc != nil) [objc_->enc endEncoding];
  @autoreleasepool {
    objc_->cmd = [ctx_.native().queue commandBuffer];
    objc_->enc = [objc_->cmd computeCommandEncoderWithDispatchType:MTLDispatchTypeConcurrent];
  }
  if (objc_->enc == nil) throw std::runtime_error("Metal: cannot create a command buffer on " + ctx_.name());
  dispatches_ = 0;
}

void mtl_step::dispatch_raw(const mtl_pipelines& p, gpu::kernel k, std::initializer_list<binding> buffers,
                            const void* params, uint32_t bytes, uint32_t groups, uint32_t groups_z) {
  const mtl_pipelines::entry& e = p[k];
  if (buffers.size() != e.n_bindings || bytes != e.push_bytes) {
    throw std::logic_error("kernel " + std::string(gpu::kernel_name(k)) + ": wrong bindings or params size");
  }
  if (groups == 0 || groups_z == 0) return;
  id<MTLComputeCommandEncoder> enc = objc_->enc;
  [enc setComputePipelineState:p.native().state[static_cast<std::size_t>(k)]];
  NSUInteger i = 0;
  for (const binding& b : buffers) {
    [enc setBuffer:b.buffer->native()->buffer offset:b.offset atIndex:i];
    ++i;
  }
  [enc setBytes:params length:bytes atIndex:gpu::msl_params_index];
  // x at most 32768 (common.glsl's flat_group); y covers the rest.
  const uint32_t gx = std::min<uint32_t>(groups, 32768u);
  [enc dispatchThreadgroups:MTLSizeMake(gx, div_up(groups, gx), groups_z)
      threadsPerThreadgroup:MTLSizeMake(gpu::workgroup_size, 1, 1)];
  ++dispatches_;
}

void mtl_step::barrier() { [objc_->enc memoryBarrierWithScope:MTLBarrierScopeBuffers]; }

void mtl_step::submit_and_wait(std::chrono::milliseconds timeout) {
  std::string failure;  // thrown after the autorelease pool is drained
  @autoreleasepool {
    id<MTLCommandBuffer> cmd = objc_->cmd;
    [objc_->enc endEncoding];
    objc_->enc = nil;
    dispatch_semaphore_t done = dispatch_semaphore_create(0);
    [cmd addCompletedHandler:^(id<MTLCommandBuffer> finished) {
      (void)finished;
      dispatch_semaphore_signal(done);
    }];
    [cmd commit];
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
    if (dispatch_semaphore_wait(done, dispatch_time(DISPATCH_TIME_NOW, ns)) != 0) {
      [cmd waitUntilCompleted];  // its buffers must not be in use when freed
      failure = "Metal: a step on " + ctx_.name() + " took longer than " + std::to_string(timeout.count()) + " ms";
    } else if (cmd.status == MTLCommandBufferStatusError) {
      failure = "Metal: a step on " + ctx_.name() + " failed: " +
                (cmd.error ? std::string(cmd.error.localizedDescription.UTF8String) : std::string("unknown error"));
    }
  }
  if (!failure.empty()) throw std::runtime_error(failure);
}

}  // namespace laneway::metal
