# AERIE_SANITIZE=address,undefined | thread | fuzzer-no-link,address,undefined (fuzz builds)
if(AERIE_SANITIZE)
  add_compile_options(-fsanitize=${AERIE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  string(REPLACE "fuzzer-no-link" "" _aerie_link_san "${AERIE_SANITIZE}")
  string(REGEX REPLACE "^,|,$" "" _aerie_link_san "${_aerie_link_san}")
  string(REPLACE ",," "," _aerie_link_san "${_aerie_link_san}")
  if(_aerie_link_san)
    add_link_options(-fsanitize=${_aerie_link_san})
  endif()
endif()

# TSan does not model atomic_thread_fence (g++ -Wtsan), which Asio's fenced blocks use
# around handler invocation. Every cross-thread hand-off in aerie goes through the
# scheduler's mutex (post), so the fences add nothing TSan needs: use Asio's null fences.
if(AERIE_SANITIZE MATCHES "thread")
  add_compile_definitions(ASIO_DISABLE_FENCED_BLOCK)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-tsan)
  endif()
endif()
