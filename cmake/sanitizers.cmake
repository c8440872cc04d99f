# Sanitizer and fuzzing builds, each in a build folder of its own (deploy/test.sh --sanitize uses
# build-asan, tests/fuzz/run.sh build-fuzz).
#   LANEWAY_SANITIZE=ON: AddressSanitizer + UBSan on every target (GCC or clang). UBSan findings
#     abort (-fno-sanitize-recover), so a test that trips one fails.
#   LANEWAY_FUZZ=ON (clang 16 or newer): the same sanitizers plus libFuzzer's coverage
#     instrumentation on every target; tests/fuzz links the libFuzzer driver into fuzz_<harness>.
#     (Clang 14 cannot compile the coroutine files under that instrumentation.)
if(LANEWAY_FUZZ AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "LANEWAY_FUZZ=ON needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_C_COMPILER=clang-16, or use tests/fuzz/run.sh")
endif()

if(LANEWAY_SANITIZE OR LANEWAY_FUZZ)
  set(LANEWAY_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  if(LANEWAY_FUZZ)
    list(APPEND LANEWAY_SANITIZER_FLAGS -fsanitize=fuzzer-no-link)
  endif()
  add_compile_options(${LANEWAY_SANITIZER_FLAGS})
  add_link_options(-fsanitize=address,undefined)
  # dlclose() keeps libraries mapped, so LeakSanitizer sees the globals of drivers the Vulkan
  # loader closes (sanitizer_keep_loaded.cpp says why). Every target made after this line links it.
  add_library(laneway_sanitizer_keep_loaded OBJECT ${CMAKE_CURRENT_LIST_DIR}/sanitizer_keep_loaded.cpp)
  link_libraries(laneway_sanitizer_keep_loaded)
endif()
