# Finds every dependency from the system's packages (Debian 12 apt or Homebrew).
# Nothing is downloaded: a missing package is a configure error naming the package to install.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_C_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
  set(CMAKE_CXX_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
endif()

find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED)              # header-only parts: Asio, Beast (compiled once, see gateway/http/asio_impl.cpp)
find_package(OpenSSL 3 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(prometheus-cpp REQUIRED COMPONENTS core)
find_package(tomlplusplus 3 REQUIRED)
find_package(doctest REQUIRED)
find_package(CLI11 2 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)

# Asio and Beast are header-only libraries that we compile exactly once (separate compilation).
add_library(laneway_boost_defs INTERFACE)
target_link_libraries(laneway_boost_defs INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(laneway_boost_defs INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION
  BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED
  BOOST_ASIO_DISABLE_BOOST_ARRAY
  BOOST_ASIO_DISABLE_BOOST_DATE_TIME)
