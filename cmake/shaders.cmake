# laneway_add_kernels(TARGET name SOURCES a.comp ... INCLUDE_DIR dir [MSL]):
# compiles each GLSL compute kernel with glslc to SPIR-V (Vulkan 1.2 target) and embeds it in a
# static library `name` as `laneway_spv_<kernel>` / `laneway_spv_<kernel>_words`; with MSL (Apple)
# also runs `spirv-cross --msl` on the same SPIR-V and embeds the result as `laneway_msl_<kernel>`.
# One kernel source, no hand-kept second copy. Include dependencies come from glslc's depfile.
find_program(LANEWAY_GLSLC glslc)
find_program(LANEWAY_SPIRV_CROSS spirv-cross)
set(LANEWAY_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_file.cmake)

function(laneway_add_kernels)
  cmake_parse_arguments(ARG "MSL" "TARGET;INCLUDE_DIR" "SOURCES" ${ARGN})
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/kernels)
  file(MAKE_DIRECTORY ${out_dir})
  set(generated)
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
    if(ARG_MSL)
      set(msl ${out_dir}/${kname}.metal)
      add_custom_command(
        OUTPUT ${msl}
        COMMAND ${LANEWAY_SPIRV_CROSS} --msl --msl-version 20100 --output ${msl} ${spv}
        DEPENDS ${spv}
        COMMENT "spirv-cross --msl ${kname}"
        VERBATIM)
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
endfunction()
