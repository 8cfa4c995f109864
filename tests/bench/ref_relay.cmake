# ref_relay: the barest relay libwebsockets on libuv allows (one upstream
# socket per charger, messages forwarded unparsed): the yardstick of the
# scale benchmark (scale.py).
add_executable(ref_relay ${CMAKE_CURRENT_LIST_DIR}/ref_relay.c
               ${CMAKE_CURRENT_LIST_DIR}/bench_lws.c
               ${CMAKE_CURRENT_LIST_DIR}/bench_wsq.c)
target_link_libraries(ref_relay PRIVATE PkgConfig::UV PkgConfig::LWS)
