# fill_backlog: a state directory with a backlog written as the offline
# responder writes it, for the replay benchmark (replay.py, with fast_csms).
add_executable(fill_backlog ${CMAKE_CURRENT_LIST_DIR}/fill_backlog.c)
target_link_libraries(fill_backlog PRIVATE sg_store sg_log PkgConfig::UV)
