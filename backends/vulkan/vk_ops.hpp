// The transformer ops recorded into a vk_step: the one template both GPU hosts share
// (backends/gpu/ops.hpp), on the Vulkan host's step, pipelines and bindings.
#pragma once

#include "backends/gpu/ops.hpp"
#include "backends/vulkan/vk_step.hpp"

namespace laneway::vulkan {

using weight_arg = gpu::weight_arg<binding>;
using vk_ops = gpu::ops<vk_step, vk_pipelines, binding>;

}  // namespace laneway::vulkan
