// The compute kernels, written once as GLSL in kernels/*.comp and compiled at build time by
// glslc to SPIR-V (embedded here; the Vulkan host loads it) and, on Apple, by spirv-cross to MSL
// (the Metal host compiles that). LANEWAY_GPU_KERNELS is the one list of kernels; CMake's list in
// backends/gpu/CMakeLists.txt names the same files (a kernel missing from either is a link error).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#define LANEWAY_GPU_KERNELS(X) \
  X(embed)                     \
  X(rmsnorm)                   \
  X(matmul)                    \
  X(rope)                      \
  X(kv_store)                  \
  X(attention)                 \
  X(silu_mul)                  \
  X(gather_rows)

namespace laneway::gpu {

enum class kernel : int {
#define LANEWAY_GPU_KERNEL_ENUM(name) name,
  LANEWAY_GPU_KERNELS(LANEWAY_GPU_KERNEL_ENUM)
#undef LANEWAY_GPU_KERNEL_ENUM
};
constexpr int kernel_count = 0
#define LANEWAY_GPU_KERNEL_COUNT(name) +1
    LANEWAY_GPU_KERNELS(LANEWAY_GPU_KERNEL_COUNT)
#undef LANEWAY_GPU_KERNEL_COUNT
    ;

// Every kernel runs 64 invocations per workgroup (common.glsl's WG).
constexpr uint32_t workgroup_size = 64;

std::string_view kernel_name(kernel k);
std::span<const uint32_t> kernel_spirv(kernel k);  // SPIR-V words
#ifdef LANEWAY_GPU_MSL
const char* kernel_msl(kernel k);  // MSL source generated from the same SPIR-V
#endif

}  // namespace laneway::gpu
