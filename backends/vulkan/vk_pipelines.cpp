// Shader modules, push-descriptor set layouts and compute pipelines (see vk_pipelines.hpp).
#include "backends/vulkan/vk_pipelines.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "backends/gpu/kernel_params.hpp"

namespace laneway::vulkan {

vk_pipelines::vk_pipelines(vk_context& ctx) : ctx_(ctx) {
  vk_api& api = ctx.api();
  for (int i = 0; i < gpu::kernel_count; ++i) {
    const auto k = static_cast<gpu::kernel>(i);
    const std::string what = "kernel " + std::string(gpu::kernel_name(k));
    entry& e = entries_[static_cast<std::size_t>(i)];
    const gpu::kernel_shape shape = gpu::shape_of(k);
    e.n_bindings = shape.n_bindings;
    e.push_bytes = shape.push_bytes;

    std::vector<VkDescriptorSetLayoutBinding> bindings(shape.n_bindings);
    for (uint32_t b = 0; b < shape.n_bindings; ++b) {
      bindings[b] = {b, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1, VK_SHADER_STAGE_COMPUTE_BIT, nullptr};
    }
    VkDescriptorSetLayoutCreateInfo dsl{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    dsl.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR;
    dsl.bindingCount = shape.n_bindings;
    dsl.pBindings = bindings.data();
    check(api.vkCreateDescriptorSetLayout(ctx.device(), &dsl, nullptr, &e.set_layout), (what + " set layout").c_str());

    const VkPushConstantRange range{VK_SHADER_STAGE_COMPUTE_BIT, 0, shape.push_bytes};
    VkPipelineLayoutCreateInfo pl{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    pl.setLayoutCount = 1;
    pl.pSetLayouts = &e.set_layout;
    pl.pushConstantRangeCount = 1;
    pl.pPushConstantRanges = &range;
    check(api.vkCreatePipelineLayout(ctx.device(), &pl, nullptr, &e.layout), (what + " pipeline layout").c_str());

    const auto code = gpu::kernel_spirv(k);
    VkShaderModuleCreateInfo smi{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    smi.codeSize = code.size() * sizeof(uint32_t);
    smi.pCode = code.data();
    VkShaderModule module = VK_NULL_HANDLE;
    check(api.vkCreateShaderModule(ctx.device(), &smi, nullptr, &module), (what + " shader module").c_str());

    VkComputePipelineCreateInfo cpi{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    cpi.stage = {VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
    cpi.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    cpi.stage.module = module;
    cpi.stage.pName = "main";
    cpi.layout = e.layout;
    const VkResult r = api.vkCreateComputePipelines(ctx.device(), VK_NULL_HANDLE, 1, &cpi, nullptr, &e.pipeline);
    api.vkDestroyShaderModule(ctx.device(), module, nullptr);
    check(r, (what + " pipeline").c_str());
  }
}

vk_pipelines::~vk_pipelines() {
  vk_api& api = ctx_.api();
  for (entry& e : entries_) {
    if (e.pipeline) api.vkDestroyPipeline(ctx_.device(), e.pipeline, nullptr);
    if (e.layout) api.vkDestroyPipelineLayout(ctx_.device(), e.layout, nullptr);
    if (e.set_layout) api.vkDestroyDescriptorSetLayout(ctx_.device(), e.set_layout, nullptr);
  }
}

}  // namespace laneway::vulkan
