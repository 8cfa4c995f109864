# loadgen: N simulated chargers (OCPP 1.6J and 2.0.1) in one process, driving
# sessions at a set CALL rate (or as fast as answers come) and timing every
# round trip; for the scale benchmark (scale.py) and its smoke test.
add_executable(loadgen ${CMAKE_CURRENT_LIST_DIR}/loadgen.c
               ${CMAKE_CURRENT_LIST_DIR}/loadgen_ocpp.c
               ${CMAKE_CURRENT_LIST_DIR}/bench_lws.c
               ${CMAKE_CURRENT_LIST_DIR}/bench_wsq.c
               ${CMAKE_CURRENT_LIST_DIR}/bench_hist.c
               ${PROJECT_SOURCE_DIR}/proxy/frame.c)
target_include_directories(loadgen PRIVATE ${PROJECT_SOURCE_DIR}/proxy)
target_link_libraries(loadgen PRIVATE PkgConfig::UV PkgConfig::LWS cjson)
