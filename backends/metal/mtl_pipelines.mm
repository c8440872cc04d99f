// Libraries, functions and compute pipeline states from the generated MSL (see mtl_pipelines.hpp).
#include "backends/metal/mtl_native.h"

#include <stdexcept>
#include <string>

#include "backends/gpu/kernel_params.hpp"

namespace laneway::metal {
namespace {

std::string message_of(NSError* e) { return e ? std::string(e.localizedDescription.UTF8String) : "unknown error"; }

// Compiles kernel k's MSL into `state`; "" or what failed (thrown by the caller, outside the
// autorelease pool).
std::string build(id<MTLDevice> device, gpu::kernel k, __strong id<MTLComputePipelineState>& state) {
  const std::string name(gpu::kernel_name(k));
  MTLCompileOptions* options = [[MTLCompileOptions alloc] init];
  options.languageVersion = MTLLanguageVersion2_1;
  options.fastMathEnabled = NO;
  NSError* error = nil;
  id<MTLLibrary> library = [device newLibraryWithSource:[NSString stringWithUTF8String:gpu::kernel_msl(k)]
                                                options:options
                                                  error:&error];
  if (library == nil) return "does not compile: " + message_of(error);
  // The entry point is laneway_<kernel> (cmake/msl_kernel.cmake).
  id<MTLFunction> fn = [library newFunctionWithName:[NSString stringWithUTF8String:("laneway_" + name).c_str()]];
  if (fn == nil) return "has no function laneway_" + name;
  state = [device newComputePipelineStateWithFunction:fn error:&error];
  if (state == nil) return "pipeline: " + message_of(error);
  if (state.maxTotalThreadsPerThreadgroup < gpu::workgroup_size) {
    return "allows " + std::to_string(state.maxTotalThreadsPerThreadgroup) + " threads a threadgroup, " +
           std::to_string(gpu::workgroup_size) + " are needed";
  }
  return "";
}

}  // namespace

mtl_pipelines::mtl_pipelines(mtl_context& ctx) : objc_(std::make_unique<objc>()) {
  for (int i = 0; i < gpu::kernel_count; ++i) {
    const auto k = static_cast<gpu::kernel>(i);
    const gpu::kernel_shape shape = gpu::shape_of(k);
    entries_[static_cast<std::size_t>(i)] = {shape.n_bindings, shape.push_bytes};
    std::string failure;
    @autoreleasepool {
      failure = build(ctx.native().device, k, objc_->state[static_cast<std::size_t>(i)]);
    }
    if (!failure.empty()) throw std::runtime_error("Metal: kernel " + std::string(gpu::kernel_name(k)) + " " + failure);
  }
}

mtl_pipelines::~mtl_pipelines() = default;

}  // namespace laneway::metal
