# cmake -DSPIRV_CROSS=exe -DINPUT=k.spv -DOUTPUT=k.metal -DKERNEL=k -DPUSH_INDEX=30 -P msl_kernel.cmake
# Translates one kernel's SPIR-V to MSL 2.1 with spirv-cross and applies the Metal host's binding
# model (docs/gpu.md, "Metal"):
#   - storage buffer `binding = N` of the GLSL is [[buffer(N)]] (--msl-decoration-binding);
#   - the push-constant block (the kernel's `params`) is [[buffer(PUSH_INDEX)]]: spirv-cross gives
#     it the next automatic index, 0, which collides with binding 0, and its command line has no
#     switch to place it, so this script moves the one `constant T& name [[buffer(i)]]` argument;
#   - the entry point is `laneway_<kernel>` (spirv-cross would call every one `main0`).
# Any spirv-cross error (an unsupported SPIR-V feature) fails the build with its message.
foreach(v SPIRV_CROSS INPUT OUTPUT KERNEL PUSH_INDEX)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "msl_kernel.cmake: -D${v}= is required")
  endif()
endforeach()
set(entry laneway_${KERNEL})
execute_process(
  COMMAND ${SPIRV_CROSS} --msl --msl-version 20100 --msl-decoration-binding
          --rename-entry-point main ${entry} comp --output ${OUTPUT}.raw ${INPUT}
  RESULT_VARIABLE rc
  ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "spirv-cross --msl ${INPUT} failed (${rc}): ${err}")
endif()
file(READ ${OUTPUT}.raw msl)
file(REMOVE ${OUTPUT}.raw)

# The entry point's parameter list, on one line as spirv-cross writes it.
string(REGEX MATCH "kernel void ${entry}\\([^\n]*\\)" sig "${msl}")
if(NOT sig)
  message(FATAL_ERROR "${OUTPUT}: no `kernel void ${entry}(...)` in spirv-cross's output")
endif()
set(push_re "constant [A-Za-z_][A-Za-z0-9_]*& [A-Za-z_][A-Za-z0-9_]* \\[\\[buffer\\([0-9]+\\)\\]\\]")
string(REGEX MATCHALL "${push_re}" push_args "${sig}")
list(LENGTH push_args n_push)
if(NOT n_push EQUAL 1)
  message(FATAL_ERROR "${OUTPUT}: expected one push-constant (constant) argument in ${entry}, found ${n_push}")
endif()
string(REGEX REPLACE "\\[\\[buffer\\([0-9]+\\)\\]\\]$" "[[buffer(${PUSH_INDEX})]]" moved "${push_args}")
string(REPLACE "${push_args}" "${moved}" new_sig "${sig}")
string(REPLACE "${sig}" "${new_sig}" msl "${msl}")
file(WRITE ${OUTPUT} "// Generated from ${INPUT} by cmake/msl_kernel.cmake (spirv-cross); do not edit.\n${msl}")
