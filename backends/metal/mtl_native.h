// The Objective-C objects behind the Metal host's C++ classes. Included only by the .mm files
// (Objective-C++ with ARC: the strong ids below are retained and released by the C++ members).
#pragma once

#import <Foundation/Foundation.h>
#import <Metal/Metal.h>

#include <array>

#include "backends/gpu/kernels.hpp"
#include "backends/metal/mtl_buffer.hpp"
#include "backends/metal/mtl_context.hpp"
#include "backends/metal/mtl_pipelines.hpp"
#include "backends/metal/mtl_step.hpp"

namespace laneway::metal {

struct mtl_context::objc {
  id<MTLDevice> device = nil;
  id<MTLCommandQueue> queue = nil;
};

struct mtl_buffer::objc {
  id<MTLBuffer> buffer = nil;
};

struct mtl_pipelines::objc {
  std::array<id<MTLComputePipelineState>, gpu::kernel_count> state{};
};

struct mtl_step::objc {
  id<MTLCommandBuffer> cmd = nil;
  id<MTLComputeCommandEncoder> enc = nil;
};

}  // namespace laneway::metal
