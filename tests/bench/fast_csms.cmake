# fast_csms: a test CSMS that answers every CALL at once (and, with
# --call-rate, sends CALLs of its own and times them), for the replay
# benchmark (replay.py) and the load benchmarks (scale.py). It shares the
# proxy's envelope parser (proxy/frame.c, built in here: it needs nothing
# else).
add_executable(fast_csms ${CMAKE_CURRENT_LIST_DIR}/fast_csms.c
               ${CMAKE_CURRENT_LIST_DIR}/fast_csms_ocpp.c
               ${CMAKE_CURRENT_LIST_DIR}/fast_csms_calls.c
               ${CMAKE_CURRENT_LIST_DIR}/bench_lws.c
               ${CMAKE_CURRENT_LIST_DIR}/bench_wsq.c
               ${CMAKE_CURRENT_LIST_DIR}/bench_hist.c
               ${PROJECT_SOURCE_DIR}/proxy/frame.c)
target_include_directories(fast_csms PRIVATE ${PROJECT_SOURCE_DIR}/proxy)
target_link_libraries(fast_csms PRIVATE PkgConfig::UV PkgConfig::LWS)
