# The payloads' read-only cJSON tree (proxy/json_tree.c) against cJSON's own
# parser: a differential target.
sitegate_fuzz_target(fuzz_json_tree fuzz_json_tree.c cjson)
target_sources(fuzz_json_tree PRIVATE
  ${PROJECT_SOURCE_DIR}/proxy/frame.c
  ${PROJECT_SOURCE_DIR}/proxy/json_tree.c)
target_include_directories(fuzz_json_tree PRIVATE ${PROJECT_SOURCE_DIR}/proxy)
