# The OCPP payload readers and writers (proxy/ocpp_msg.c and its splits),
# compiled into the target; the first input byte picks version and parser.
sitegate_fuzz_target(fuzz_ocpp_msg fuzz_ocpp_msg.c cjson)
target_sources(fuzz_ocpp_msg PRIVATE
  ${PROJECT_SOURCE_DIR}/proxy/frame.c
  ${PROJECT_SOURCE_DIR}/proxy/json_tree.c
  ${PROJECT_SOURCE_DIR}/proxy/ocpp_msg.c
  ${PROJECT_SOURCE_DIR}/proxy/ocpp_observe.c
  ${PROJECT_SOURCE_DIR}/proxy/ocpp_meter.c
  ${PROJECT_SOURCE_DIR}/proxy/ocpp_profile.c
  ${PROJECT_SOURCE_DIR}/proxy/ocpp_caps.c)
target_include_directories(fuzz_ocpp_msg PRIVATE ${PROJECT_SOURCE_DIR}/proxy)
