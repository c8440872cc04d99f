// Helpers for the Metal tests: one shared device context or a clear skip, host <-> device
// copies (shared storage: plain memcpy), and one step around a test's ops.
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backends/metal/mtl_buffer.hpp"
#include "backends/metal/mtl_context.hpp"
#include "backends/metal/mtl_ops.hpp"
#include "backends/metal/mtl_pipelines.hpp"
#include "backends/metal/mtl_step.hpp"

namespace laneway::metal::test {

struct gpu {
  std::unique_ptr<mtl_context> ctx;
  std::unique_ptr<mtl_pipelines> pipelines;
  std::string why;  // when ctx is null
};

// The process's test device, created on first use; null (with why) when there is none. A kernel
// that does not compile is a failure, not a skip.
inline gpu& test_gpu() {
  static gpu g = [] {
    gpu r;
    try {
      r.ctx = mtl_context::create();
    } catch (const std::exception& e) {
      r.why = e.what();
      return r;
    }
    r.pipelines = std::make_unique<mtl_pipelines>(*r.ctx);
    return r;
  }();
  return g;
}

#define LANEWAY_METAL_OR_SKIP(g)                                 \
  auto& g = ::laneway::metal::test::test_gpu();                  \
  if (!g.ctx) {                                                  \
    MESSAGE("SKIPPED: no Metal device (" << g.why << ")");       \
    return;                                                      \
  }

template <class T>
mtl_buffer upload(mtl_context& ctx, const std::vector<T>& v) {
  mtl_buffer b(ctx, v.size() * sizeof(T));
  if (!v.empty()) b.write(0, v.data(), v.size() * sizeof(T));
  return b;
}

template <class T>
std::vector<T> download(const mtl_buffer& b, std::size_t n) {
  std::vector<T> out(n);
  std::memcpy(out.data(), b.contents(), n * sizeof(T));
  return out;
}

// Records what `body` records into one step, runs it and waits.
template <class F>
void run_ops(gpu& g, F&& body) {
  mtl_step step(*g.ctx);
  step.begin();
  mtl_ops ops(step, *g.pipelines);
  body(ops);
  step.submit_and_wait();
}

}  // namespace laneway::metal::test
