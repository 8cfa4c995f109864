# bench.smoke: the benchmark tools (fast_csms, loadgen, ref_relay) run for a
# few seconds with 10 chargers, direct, through ref_relay and through the
# gateway; it checks that traffic flows both ways and times nothing.
find_program(SITEGATE_BENCH_PYTHON NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(SITEGATE_BENCH_PYTHON AND TARGET sitegate)
  add_test(NAME bench.smoke
           COMMAND ${SITEGATE_BENCH_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/smoke.py
                   --bench-dir $<TARGET_FILE_DIR:loadgen> --sitegate $<TARGET_FILE:sitegate>)
  set_tests_properties(bench.smoke PROPERTIES LABELS bench TIMEOUT 120
                       ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()
