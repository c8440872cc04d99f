// The transformer ops recorded into an mtl_step: the one template both GPU hosts share
// (backends/gpu/ops.hpp), on the Metal host's step, pipelines and bindings.
#pragma once

#include "backends/gpu/ops.hpp"
#include "backends/metal/mtl_step.hpp"

namespace laneway::metal {

using weight_arg = gpu::weight_arg<binding>;
using mtl_ops = gpu::ops<mtl_step, mtl_pipelines, binding>;

}  // namespace laneway::metal
