# Project-wide warning flags, applied through an interface target so that third-party
# code (GoogleTest, Asio) is not compiled with them.
add_library(aerie_warnings INTERFACE)
target_compile_options(aerie_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                       -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
                       -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(AERIE_WERROR)
  target_compile_options(aerie_warnings INTERFACE -Werror)
endif()
# GCC 12 reports false -Wrestrict / -Wstringop-overflow positives inside libstdc++'s
# std::string at -O3 (GCC bugs 105329, 105651); they are not about our code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(aerie_warnings INTERFACE -Wno-restrict -Wno-stringop-overflow)
endif()
