# cmake -DREADELF=... -DBIN=... -DFORTIFY=ON|OFF -P check.cmake
#
# Fails unless BIN is a position-independent executable with full RELRO
# (GNU_RELRO segment and immediate binding), calls the stack protector's
# failure handler somewhere, and, with FORTIFY, uses glibc's checked
# functions (__*_chk).
function(readelf out)
  execute_process(COMMAND ${READELF} ${ARGN} ${BIN} OUTPUT_VARIABLE text RESULT_VARIABLE rc
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "readelf ${ARGN} ${BIN} failed: ${err}")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

set(failed "")
readelf(header -h -W)
if(NOT header MATCHES "Type:[ ]+DYN")
  list(APPEND failed "not PIE (ELF type is not DYN)")
endif()
readelf(segments -l -W)
if(NOT segments MATCHES "GNU_RELRO")
  list(APPEND failed "no RELRO (no GNU_RELRO segment)")
endif()
readelf(dynamic -d -W)
if(NOT dynamic MATCHES "BIND_NOW" AND NOT dynamic MATCHES "FLAGS_1[^\n]*NOW")
  list(APPEND failed "partial RELRO only (no BIND_NOW: link with -z now)")
endif()
readelf(symbols --dyn-syms -W)
if(NOT symbols MATCHES "__stack_chk_fail")
  list(APPEND failed "no stack protector (__stack_chk_fail not used)")
endif()
if(FORTIFY AND NOT symbols MATCHES "__[a-z]+_chk")
  list(APPEND failed "no FORTIFY_SOURCE (no __*_chk function used)")
endif()
if(failed)
  string(REPLACE ";" "\n  " failed "${failed}")
  message(FATAL_ERROR "${BIN}:\n  ${failed}")
endif()
if(FORTIFY)
  message(STATUS "${BIN}: PIE, RELRO, BIND_NOW, stack protector, FORTIFY_SOURCE")
else()
  message(STATUS "${BIN}: PIE, RELRO, BIND_NOW, stack protector")
endif()
