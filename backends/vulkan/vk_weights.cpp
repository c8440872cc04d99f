// Packing and upload of the weights (see vk_weights.hpp): first fit in registration order, each
// tensor 256-byte aligned in its chunk.
#include "backends/vulkan/vk_weights.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace laneway::vulkan {
namespace {
constexpr std::size_t tensor_alignment = 256;
}

vk_weights::vk_weights(vk_context& ctx)
    : ctx_(ctx), limit_(std::min<std::size_t>(ctx.limits().maxStorageBufferRange, std::size_t{1} << 30)) {
  limit_ = (limit_ & ~(tensor_alignment - 1)) - tensor_alignment;  // room for upload()'s slack
}

weight_ref vk_weights::add(const void* data, std::size_t bytes) {
  if (const auto it = refs_.find(data); it != refs_.end()) return it->second;
  if (bytes > limit_) {
    throw std::length_error("Vulkan: a weight tensor of " + std::to_string(bytes) + " bytes exceeds the " +
                            std::to_string(limit_) + "-byte buffer limit of " + ctx_.info().name);
  }
  const auto aligned = [](std::size_t n) { return (n + tensor_alignment - 1) & ~(tensor_alignment - 1); };
  uint32_t chunk = 0;
  while (chunk < chunk_sizes_.size() && aligned(chunk_sizes_[chunk]) + bytes > limit_) ++chunk;
  if (chunk == chunk_sizes_.size()) chunk_sizes_.push_back(0);
  const weight_ref ref{chunk, static_cast<uint32_t>(aligned(chunk_sizes_[chunk]))};
  chunk_sizes_[chunk] = ref.offset + bytes;
  pending_.push_back({data, bytes, ref});
  refs_.emplace(data, ref);
  total_ += bytes;
  return ref;
}

void vk_weights::upload() {
  // +4: rd_u32 of a 2-byte aligned tail reads the word after it.
  for (const std::size_t size : chunk_sizes_) chunks_.emplace_back(ctx_, size + 4, vk_buffer::kind::device);
  for (const pending& p : pending_) chunks_[p.ref.chunk].write(p.ref.offset, p.data, p.bytes);
  pending_.clear();
}

weight_ref vk_weights::at(const void* data) const {
  const auto it = refs_.find(data);
  if (it == refs_.end()) throw std::logic_error("vk_weights: tensor was not added");
  return it->second;
}

}  // namespace laneway::vulkan
