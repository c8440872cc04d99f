// The embedded kernels (see kernels.hpp): the generated laneway_spv_<name> arrays by kernel id.
#include "backends/gpu/kernels.hpp"

#include <cstddef>

#define LANEWAY_GPU_KERNEL_DECL(name)                    \
  extern const uint32_t laneway_spv_##name[];            \
  extern const std::size_t laneway_spv_##name##_words;
LANEWAY_GPU_KERNELS(LANEWAY_GPU_KERNEL_DECL)
#undef LANEWAY_GPU_KERNEL_DECL
#ifdef LANEWAY_GPU_MSL
#define LANEWAY_GPU_KERNEL_MSL_DECL(name) extern const char laneway_msl_##name[];
LANEWAY_GPU_KERNELS(LANEWAY_GPU_KERNEL_MSL_DECL)
#undef LANEWAY_GPU_KERNEL_MSL_DECL
#endif

namespace laneway::gpu {

std::string_view kernel_name(kernel k) {
  switch (k) {
#define LANEWAY_GPU_KERNEL_NAME(name) \
  case kernel::name: return #name;
    LANEWAY_GPU_KERNELS(LANEWAY_GPU_KERNEL_NAME)
#undef LANEWAY_GPU_KERNEL_NAME
  }
  return "?";
}

std::span<const uint32_t> kernel_spirv(kernel k) {
  switch (k) {
#define LANEWAY_GPU_KERNEL_SPAN(name) \
  case kernel::name: return {laneway_spv_##name, laneway_spv_##name##_words};
    LANEWAY_GPU_KERNELS(LANEWAY_GPU_KERNEL_SPAN)
#undef LANEWAY_GPU_KERNEL_SPAN
  }
  return {};
}

#ifdef LANEWAY_GPU_MSL
const char* kernel_msl(kernel k) {
  switch (k) {
#define LANEWAY_GPU_KERNEL_MSL(name) \
  case kernel::name: return laneway_msl_##name;
    LANEWAY_GPU_KERNELS(LANEWAY_GPU_KERNEL_MSL)
#undef LANEWAY_GPU_KERNEL_MSL
  }
  return nullptr;
}
#endif

}  // namespace laneway::gpu
