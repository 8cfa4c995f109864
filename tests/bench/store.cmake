# bench_store: durable queue writes per second (group commit, synchronous=FULL)
# and draining a 100,000-message backlog (run it from a Release build; the
# numbers go into the README).
add_executable(bench_store ${CMAKE_CURRENT_LIST_DIR}/bench_store.c)
target_link_libraries(bench_store PRIVATE sg_store sg_log SQLite::SQLite3 PkgConfig::UV)
