// Helpers for the Vulkan tests: one shared device context (any device, lavapipe included) or a
// clear skip, and host <-> device copies of test data.
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/matmul.hpp"
#include "backends/vulkan/vk_buffer.hpp"
#include "backends/vulkan/vk_context.hpp"
#include "backends/vulkan/vk_ops.hpp"
#include "backends/vulkan/vk_pipelines.hpp"
#include "backends/vulkan/vk_step.hpp"

namespace laneway::vulkan::test {

struct gpu {
  std::unique_ptr<vk_context> ctx;
  std::unique_ptr<vk_pipelines> pipelines;
  std::string why;  // when ctx is null
};

// The process's test device, created on first use; null (with why) when there is none.
inline gpu& test_gpu() {
  static gpu g = [] {
    gpu r;
    try {
      r.ctx = vk_context::create(true);
      r.pipelines = std::make_unique<vk_pipelines>(*r.ctx);
    } catch (const std::exception& e) {
      r.ctx.reset();
      r.why = e.what();
    }
    return r;
  }();
  return g;
}

// Opens a test case body: skips it (with the reason) when no Vulkan device is present.
#define LANEWAY_VULKAN_OR_SKIP(g)                                         \
  auto& g = ::laneway::vulkan::test::test_gpu();                          \
  if (!g.ctx) {                                                           \
    MESSAGE("SKIPPED: no Vulkan device (" << g.why << ")");               \
    return;                                                               \
  }

template <class T>
vk_buffer upload(vk_context& ctx, const std::vector<T>& v, vk_buffer::kind k = vk_buffer::kind::device) {
  vk_buffer b(ctx, v.size() * sizeof(T), k);
  if (!v.empty()) b.write(0, v.data(), v.size() * sizeof(T));
  return b;
}

template <class T>
std::vector<T> download(vk_context& ctx, const vk_buffer& b, std::size_t n) {
  std::vector<T> out(n);
  if (b.mapped()) {
    std::memcpy(out.data(), b.mapped(), n * sizeof(T));
    return out;
  }
  vk_buffer host(ctx, n * sizeof(T), vk_buffer::kind::host);
  vk_step step(ctx);
  step.begin();
  step.copy(b.handle(), host.handle(), 0, n * sizeof(T));
  step.submit_and_wait();
  std::memcpy(out.data(), host.mapped(), n * sizeof(T));
  return out;
}

// The CPU's AVX2 kernel set while alive, where this CPU has it, else its best set: the GPU
// kernels follow the AVX2 arithmetic (the peer's; AVX-512 sums Q8_0 blocks in 4 accumulators).
struct isa_scope {
  isa_scope() {
    for (const cpu::isa i : cpu::available_isas()) {
      if (i == cpu::isa::avx2) cpu::force_isa(i);
    }
  }
  ~isa_scope() { cpu::reset_isa(); }
  isa_scope(const isa_scope&) = delete;
  isa_scope& operator=(const isa_scope&) = delete;
};

// Records what `body` records into one step, runs it and waits.
template <class F>
void run_ops(gpu& g, F&& body) {
  vk_step step(*g.ctx);
  step.begin();
  vk_ops ops(step, *g.pipelines);
  body(ops);
  step.submit_and_wait();
}

}  // namespace laneway::vulkan::test
