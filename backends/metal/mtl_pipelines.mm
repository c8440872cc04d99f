// Libraries, functions and compute pipeline states from the generated MSL (see mtl_pipelines.hpp).
#include "backends/metal/mtl_native.h"

#include <stdexcept>
#include <string>

#include "backends/gpu/kernel_params.hpp"

namespace laneway::metal {
namespace {

std::string message_of(NSError* e) { return e ? std::string(e.localizedDescription.UTF8String) : "unknown error"; }

}  // namespace

mtl_pipelines::mtl_pipelines(mtl_context& ctx) : objc_(std::make_unique<objc>()) {
  id<MTLDevice> device = ctx.native().device;
  for (int i = 0; i < gpu::kernel_count; ++i) {
    const auto k = static_cast<gpu::kernel>(i);
    const std::string name(gpu::kernel_name(k));
    const gpu::kernel_shape shape = gpu::shape_of(k);
    entries_[static_cast<std::size_t>(i)] = {shape.n_bindings, shape.push_bytes};
    @autoreleasepool {
      MTLCompileOptions* options = [[MTLCompileOptions alloc] init];
      options.languageVersion = MTLLanguageVersion2_1;
      options.fastMathEnabled = NO;
      NSError* error = nil;
      id<MTLLibrary> library = [device newLibraryWithSource:[NSString stringWithUTF8String:gpu::kernel_msl(k)]
                                                    options:options
                                                      error:&error];
      if (library == nil) throw std::runtime_error("Metal: kernel " + name + " does not compile: " + message_of(error));
      // The entry point is laneway_<kernel> (cmake/msl_kernel.cmake).
      id<MTLFunction> fn = [library newFunctionWithName:[NSString stringWithUTF8String:("laneway_" + name).c_str()]];
      if (fn == nil) throw std::runtime_error("Metal: kernel " + name + " has no function laneway_" + name);
      id<MTLComputePipelineState> state = [device newComputePipelineStateWithFunction:fn error:&error];
      if (state == nil) throw std::runtime_error("Metal: kernel " + name + " pipeline: " + message_of(error));
      if (state.maxTotalThreadsPerThreadgroup < gpu::workgroup_size) {
        throw std::runtime_error("Metal: kernel " + name + " allows " +
                                 std::to_string(state.maxTotalThreadsPerThreadgroup) + " threads a threadgroup, " +
                                 std::to_string(gpu::workgroup_size) + " are needed");
      }
      objc_->state[static_cast<std::size_t>(i)] = state;
    }
  }
}

mtl_pipelines::~mtl_pipelines() = default;

}  // namespace laneway::metal
