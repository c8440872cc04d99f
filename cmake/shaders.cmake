# laneway_add_kernels(TARGET name SOURCES a.comp ... INCLUDE_DIR dir [MSL] [EMBED_MSL]):
# compiles each GLSL compute kernel with glslc to SPIR-V (Vulkan 1.2 target) and embeds it in a
# static library `name` as `laneway_spv_<kernel>` / `laneway_spv_<kernel>_words`. With MSL it also
# translates the same SPIR-V to MSL (cmake/msl_kernel.cmake: spirv-cross --msl plus the Metal
# host's binding model) into <binary dir>/kernels/<kernel>.metal, built by the target `name`_msl
# on any platform (the gpu.msl test checks them); with EMBED_MSL (Apple: the Metal host) the MSL
# is embedded too, as `laneway_msl_<kernel>`. One kernel source, no hand-kept second copy.
# Include dependencies come from glslc's depfile.
find_program(LANEWAY_GLSLC glslc)
find_program(LANEWAY_SPIRV_CROSS spirv-cross)
set(LANEWAY_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_file.cmake)
set(LANEWAY_MSL_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/msl_kernel.cmake)
# The Metal buffer index of every kernel's push constants (its `params` block); storage buffer
# binding N is [[buffer(N)]]. backends/gpu/kernel_params.hpp says the same to the host.
set(LANEWAY_MSL_PUSH_INDEX 30)

function(laneway_add_kernels)
  cmake_parse_arguments(ARG "MSL;EMBED_MSL" "TARGET;INCLUDE_DIR" "SOURCES" ${ARGN})
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/kernels)
  file(MAKE_DIRECTORY ${out_dir})
  set(generated)
  set(msl_files)
  foreach(src ${ARG_SOURCES})
    get_filename_component(kname ${src} NAME_WE)
    get_filename_component(src_abs ${src} ABSOLUTE)
    set(spv ${out_dir}/${kname}.spv)
    add_custom_command(
      OUTPUT ${spv}
      COMMAND ${LANEWAY_GLSLC} --target-env=vulkan1.2 -O -I ${ARG_INCLUDE_DIR}
              -MD -MF ${spv}.d -o ${spv} ${src_abs}
      DEPENDS ${src_abs}
      DEPFILE ${spv}.d
      COMMENT "glslc ${kname}.comp"
      VERBATIM)
    add_custom_command(
      OUTPUT ${spv}.cpp
      COMMAND ${CMAKE_COMMAND} -DINPUT=${spv} -DOUTPUT=${spv}.cpp -DSYMBOL=laneway_spv_${kname}
              -DMODE=words -P ${LANEWAY_EMBED_SCRIPT}
      DEPENDS ${spv} ${LANEWAY_EMBED_SCRIPT}
      VERBATIM)
    list(APPEND generated ${spv}.cpp)
    if(ARG_MSL OR ARG_EMBED_MSL)
      set(msl ${out_dir}/${kname}.metal)
      add_custom_command(
        OUTPUT ${msl}
        COMMAND ${CMAKE_COMMAND} -DSPIRV_CROSS=${LANEWAY_SPIRV_CROSS} -DINPUT=${spv} -DOUTPUT=${msl}
                -DKERNEL=${kname} -DPUSH_INDEX=${LANEWAY_MSL_PUSH_INDEX} -P ${LANEWAY_MSL_SCRIPT}
        DEPENDS ${spv} ${LANEWAY_MSL_SCRIPT}
        COMMENT "spirv-cross --msl ${kname}"
        VERBATIM)
      list(APPEND msl_files ${msl})
    endif()
    if(ARG_EMBED_MSL)
      add_custom_command(
        OUTPUT ${msl}.cpp
        COMMAND ${CMAKE_COMMAND} -DINPUT=${msl} -DOUTPUT=${msl}.cpp -DSYMBOL=laneway_msl_${kname}
                -DMODE=text -P ${LANEWAY_EMBED_SCRIPT}
        DEPENDS ${msl} ${LANEWAY_EMBED_SCRIPT}
        VERBATIM)
      list(APPEND generated ${msl}.cpp)
    endif()
  endforeach()
  add_library(${ARG_TARGET} STATIC ${generated})
  if(msl_files)
    add_custom_target(${ARG_TARGET}_msl ALL DEPENDS ${msl_files})
  endif()
endfunction()
