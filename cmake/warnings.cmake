# Project-wide warning flags, applied through an interface target so that third-party
# code (GoogleTest, Asio) is not compiled with them.
add_library(aerie_warnings INTERFACE)
target_compile_options(aerie_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                       -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
                       -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(AERIE_WERROR)
  target_compile_options(aerie_warnings INTERFACE -Werror)
endif()
