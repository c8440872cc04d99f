// The weight tensors the GPU forward pass reads, in the one order both hosts register them
// (vk_weights, mtl_weights): token_embd, per layer the norms, matrices and biases, then
// output_norm and output (the same pointer as token_embd when tied).
#pragma once

#include <cstddef>
#include <functional>

namespace laneway::engine {
class model;
}

namespace laneway::gpu {

// Calls add(data, bytes) for every tensor of m the forward pass reads (absent ones skipped).
void for_each_weight(const engine::model& m, const std::function<void(const void* data, std::size_t bytes)>& add);

}  // namespace laneway::gpu
