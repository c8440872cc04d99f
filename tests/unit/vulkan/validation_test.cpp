// The validation layer's messages reach laneway: an invalid call on a context created with
// validation on is counted as an error. Skipped by default (it prints a validation error on
// purpose, which unit.vulkan's output check would take for a real one); ctest runs it as
// unit.vulkan_validation with --no-skip. Skipped when VK_LAYER_KHRONOS_validation is not installed.
#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>

#include "backends/vulkan/vk_context.hpp"

using namespace laneway::vulkan;

TEST_SUITE("vulkan") {
  TEST_CASE("validation: an invalid call is counted as a validation error" * doctest::skip()) {
    ::setenv("LANEWAY_VULKAN_VALIDATION", "1", 1);
    std::unique_ptr<vk_context> ctx;
    try {
      ctx = vk_context::create(true);
    } catch (const std::exception& e) {
      MESSAGE("SKIPPED: no Vulkan device (" << e.what() << ")");
      return;
    }
    if (!ctx->validation()) {
      MESSAGE("SKIPPED: VK_LAYER_KHRONOS_validation is not installed");
      return;
    }
    CHECK(ctx->validation_errors() == 0);
    // size 0 and no usage flags: VUID-VkBufferCreateInfo-size-00912 and -usage-requiredbitmask.
    VkBufferCreateInfo bi{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bi.size = 0;
    bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    VkBuffer b = VK_NULL_HANDLE;
    if (ctx->api().vkCreateBuffer(ctx->device(), &bi, nullptr, &b) == VK_SUCCESS && b != VK_NULL_HANDLE) {
      ctx->api().vkDestroyBuffer(ctx->device(), b, nullptr);
    }
    CHECK(ctx->validation_errors() >= 1);
  }
}
