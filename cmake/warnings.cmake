# Warnings on for our own targets (not for dependencies). Sanitizers: cmake/sanitizers.cmake.
function(laneway_target_defaults target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-missing-field-initializers)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 misreports Asio's coroutine frame allocator (operator new/delete pair) as mismatched.
    target_compile_options(${target} PRIVATE -Wno-mismatched-new-delete)
  endif()
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

