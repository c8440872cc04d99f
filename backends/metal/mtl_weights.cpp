// Wrapping or packing of the weights (see mtl_weights.hpp). Copy chunks: first fit in
// registration order, each tensor 256-byte aligned, as vk_weights.
#include "backends/metal/mtl_weights.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace laneway::metal {
namespace {
constexpr std::size_t tensor_alignment = 256;
std::size_t aligned(std::size_t n, std::size_t a) { return (n + a - 1) & ~(a - 1); }
}  // namespace

mtl_weights::mtl_weights(mtl_context& ctx, std::span<const std::byte> file)
    : ctx_(ctx), limit_(std::min<std::size_t>(ctx.max_buffer_bytes(), std::size_t{1} << 30) - 2 * tensor_alignment) {
  const std::size_t page = mtl_buffer::page_size();
  if (file.empty()) {
    copy_reason_ = "the weights are not in a mapped file";
  } else if (reinterpret_cast<std::uintptr_t>(file.data()) % page != 0) {
    copy_reason_ = "the model's bytes are not page-aligned (not an mmapped file)";
  } else if (aligned(file.size(), page) > ctx.max_buffer_bytes()) {
    copy_reason_ = "the model file (" + std::to_string(file.size()) + " bytes) is larger than one Metal buffer (" +
                   std::to_string(ctx.max_buffer_bytes()) + " bytes)";
  } else if (aligned(file.size(), page) - file.size() < 4) {
    copy_reason_ = "the model file ends within 4 bytes of a page boundary (the kernels read a word past a tensor)";
  } else {
    file_ = file;
  }
  first_copy_chunk_ = file_.empty() ? 0 : 1;
}

weight_ref mtl_weights::add(const void* data, std::size_t bytes) {
  if (const auto it = refs_.find(data); it != refs_.end()) return it->second;
  const auto* p = static_cast<const std::byte*>(data);
  total_ += bytes;
  if (!file_.empty() && p >= file_.data() && p + bytes <= file_.data() + file_.size()) {
    const weight_ref ref{0, static_cast<std::size_t>(p - file_.data())};
    refs_.emplace(data, ref);
    return ref;
  }
  if (bytes > limit_) {
    throw std::length_error("Metal: a weight tensor of " + std::to_string(bytes) + " bytes exceeds the " +
                            std::to_string(limit_) + "-byte buffer limit of " + ctx_.name());
  }
  if (copy_reason_.empty()) copy_reason_ = "a tensor lies outside the model file";
  uint32_t chunk = 0;
  while (chunk < chunk_sizes_.size() && aligned(chunk_sizes_[chunk], tensor_alignment) + bytes > limit_) ++chunk;
  if (chunk == chunk_sizes_.size()) chunk_sizes_.push_back(0);
  const weight_ref ref{first_copy_chunk_ + chunk, aligned(chunk_sizes_[chunk], tensor_alignment)};
  chunk_sizes_[chunk] = ref.offset + bytes;
  pending_.push_back({data, bytes, ref});
  refs_.emplace(data, ref);
  copied_ += bytes;
  return ref;
}

void mtl_weights::upload() {
  if (!file_.empty()) {
    chunks_.push_back(mtl_buffer::wrap(ctx_, file_.data(), aligned(file_.size(), mtl_buffer::page_size())));
  }
  // +4: rd_u32 of a 2-byte aligned tail reads the word after it.
  for (const std::size_t size : chunk_sizes_) chunks_.emplace_back(ctx_, size + 4);
  for (const pending& p : pending_) chunks_[p.ref.chunk].write(p.ref.offset, p.data, p.bytes);
  pending_.clear();
}

weight_ref mtl_weights::at(const void* data) const {
  const auto it = refs_.find(data);
  if (it == refs_.end()) throw std::logic_error("mtl_weights: tensor was not added");
  return it->second;
}

weight_binding mtl_weights::bind(const void* data) const {
  const weight_ref r = at(data);
  const std::size_t base = r.offset & ~(tensor_alignment - 1);
  return {binding(chunks_[r.chunk], base), static_cast<uint32_t>(r.offset - base)};
}

}  // namespace laneway::metal
