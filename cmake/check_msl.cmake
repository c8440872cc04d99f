# cmake -DMSL_DIR=dir -DGLSL_DIR=dir -DKERNELS=a,b,... -DPUSH_INDEX=30 -DWORKGROUP=64
#       -DHOST_HEADER=backends/gpu/kernel_params.hpp -P check_msl.cmake
# The gpu.msl test: checks the MSL that cmake/msl_kernel.cmake generated for every kernel against
# what the Metal host assumes (backends/metal/mtl_step.mm binds buffer i at index i for the
# n_bindings of HOST_HEADER's shape_of, the params at msl_params_index, and dispatches WORKGROUP
# threads a threadgroup):
#   - HOST_HEADER's msl_params_index is PUSH_INDEX, and its n_bindings of each kernel is the
#     number of bindings the GLSL declares;
#   - one entry point `kernel void laneway_<k>(...)`;
#   - its device buffers are [[buffer(N)]] for exactly the `binding = N` of the GLSL (with its
#     includes), and the one constant argument (the push constants) is [[buffer(PUSH_INDEX)]];
#   - the threadgroup size is WORKGROUP x 1 x 1, static threadgroup memory fits in 32 KiB;
#   - no spirv-cross error or unsupported-feature marker in the text.
# Then, where `xcrun metal` exists (macOS with Xcode), each file is compiled for MSL 2.1; elsewhere
# the test says that this step runs on macOS only.
string(REPLACE "," ";" kernels "${KERNELS}")
set(failures 0)
file(READ ${HOST_HEADER} host)
if(NOT host MATCHES "msl_params_index = ${PUSH_INDEX};")
  message(FATAL_ERROR "gpu.msl: ${HOST_HEADER} does not say msl_params_index = ${PUSH_INDEX}")
endif()
macro(fail msg)
  message(SEND_ERROR "gpu.msl: ${k}: ${msg}")
  math(EXPR failures "${failures} + 1")
endmacro()

foreach(k ${kernels})
  set(path ${MSL_DIR}/${k}.metal)
  if(NOT EXISTS ${path})
    fail("${path} was not generated")
    continue()
  endif()
  file(READ ${path} msl)
  file(READ ${GLSL_DIR}/${k}.comp glsl)
  string(REGEX MATCHALL "#include \"[^\"]+\"" includes "${glsl}")
  foreach(inc ${includes})
    string(REGEX REPLACE "#include \"([^\"]+)\"" "\\1" inc_file "${inc}")
    file(READ ${GLSL_DIR}/${inc_file} inc_text)
    string(APPEND glsl "\n${inc_text}")
  endforeach()

  string(REGEX MATCHALL "kernel void laneway_${k}\\(" entries "${msl}")
  list(LENGTH entries n_entries)
  if(NOT n_entries EQUAL 1)
    fail("expected one entry point laneway_${k}, found ${n_entries}")
    continue()
  endif()
  string(REGEX MATCH "kernel void laneway_${k}\\([^\n]*\\)" sig "${msl}")

  # Bindings the GLSL declares, and the device buffer indices the MSL takes.
  string(REGEX MATCHALL "binding = [0-9]+" decl "${glsl}")
  set(want)
  foreach(d ${decl})
    string(REGEX REPLACE "binding = " "" b "${d}")
    list(APPEND want ${b})
  endforeach()
  string(REGEX MATCHALL "device [A-Za-z0-9_]+& [A-Za-z0-9_]+ \\[\\[buffer\\([0-9]+\\)\\]\\]" dev_args "${sig}")
  set(have)
  foreach(a ${dev_args})
    string(REGEX REPLACE ".*\\[\\[buffer\\(([0-9]+)\\)\\]\\]" "\\1" b "${a}")
    list(APPEND have ${b})
  endforeach()
  list(LENGTH want n_want)
  string(REGEX MATCH "case kernel::${k}: return {([0-9]+)," host_case "${host}")
  if(NOT CMAKE_MATCH_1 STREQUAL "${n_want}")
    fail("the host binds '${CMAKE_MATCH_1}' buffers (kernel_params.hpp shape_of), the GLSL declares ${n_want}")
  endif()
  list(SORT want COMPARE NATURAL)
  list(SORT have COMPARE NATURAL)
  if(NOT "${want}" STREQUAL "${have}")
    fail("device buffers at [[buffer(${have})]], but the GLSL bindings are ${want}")
  endif()
  string(REGEX MATCHALL "constant [A-Za-z0-9_]+& [A-Za-z0-9_]+ \\[\\[buffer\\([0-9]+\\)\\]\\]" push_args "${sig}")
  list(LENGTH push_args n_push)
  if(NOT n_push EQUAL 1 OR NOT push_args MATCHES "\\[\\[buffer\\(${PUSH_INDEX}\\)\\]\\]$")
    fail("push constants not the one constant argument at [[buffer(${PUSH_INDEX})]]: ${push_args}")
  endif()
  list(FIND have "${PUSH_INDEX}" clash)
  if(NOT clash EQUAL -1)
    fail("a binding uses the push-constant index ${PUSH_INDEX}")
  endif()

  if(NOT msl MATCHES "gl_WorkGroupSize [^\n]*= uint3\\(${WORKGROUP}u, 1u, 1u\\);")
    fail("threadgroup size is not ${WORKGROUP} x 1 x 1")
  endif()
  # Static threadgroup arrays: threadgroup <float|uint|int> name[a][b]...;
  string(REGEX MATCHALL "threadgroup (float|uint|int) [A-Za-z0-9_]+(\\[[0-9]+\\])+;" tg "${msl}")
  set(tg_bytes 0)
  foreach(t ${tg})
    set(n 4)
    string(REGEX MATCHALL "\\[[0-9]+\\]" dims "${t}")
    foreach(dim ${dims})
      string(REGEX REPLACE "[][]" "" dim "${dim}")
      math(EXPR n "${n} * ${dim}")
    endforeach()
    math(EXPR tg_bytes "${tg_bytes} + ${n}")
  endforeach()
  if(tg_bytes GREATER 32768)
    fail("${tg_bytes} bytes of threadgroup memory (Metal allows 32 KiB)")
  endif()
  if(msl MATCHES "#error|[Uu]nsupported")
    fail("spirv-cross left an error or unsupported-feature marker")
  endif()
  message(STATUS "gpu.msl: ${k}: laneway_${k}, buffers [${have}], params at ${PUSH_INDEX}, threadgroup memory ${tg_bytes} bytes")
endforeach()

if(failures GREATER 0)
  message(FATAL_ERROR "gpu.msl: ${failures} check(s) failed")
endif()

execute_process(COMMAND xcrun -sdk macosx -f metal RESULT_VARIABLE no_metal OUTPUT_QUIET ERROR_QUIET)
if(NOT no_metal EQUAL 0)
  message(STATUS "gpu.msl: `xcrun metal` is not available here: compiling the MSL runs on macOS only (with Xcode)")
  return()
endif()
foreach(k ${kernels})
  execute_process(
    COMMAND xcrun -sdk macosx metal -std=macos-metal2.1 -c ${MSL_DIR}/${k}.metal -o ${MSL_DIR}/${k}.air
    RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(SEND_ERROR "gpu.msl: ${k}: xcrun metal failed: ${err}")
    math(EXPR failures "${failures} + 1")
  else()
    message(STATUS "gpu.msl: ${k}: compiled by xcrun metal (MSL 2.1)")
  endif()
endforeach()
if(failures GREATER 0)
  message(FATAL_ERROR "gpu.msl: ${failures} kernel(s) did not compile")
endif()
