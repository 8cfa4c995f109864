# bench_balancer: allocation time for 10 .. 10,000 connectors (run it from a
# Release build; the numbers go into the README).
add_executable(bench_balancer ${CMAKE_CURRENT_LIST_DIR}/bench_balancer.c)
target_link_libraries(bench_balancer PRIVATE sg_balancer)
