# The 1.6 <-> 2.0.1 payload mapping of aggregate mode (proxy/bridge*.c).
sitegate_fuzz_target(fuzz_bridge fuzz_bridge.c cjson m)
target_sources(fuzz_bridge PRIVATE
  ${PROJECT_SOURCE_DIR}/proxy/bridge.c
  ${PROJECT_SOURCE_DIR}/proxy/bridge_values.c
  ${PROJECT_SOURCE_DIR}/proxy/bridge_profile.c
  ${PROJECT_SOURCE_DIR}/proxy/bridge_up.c
  ${PROJECT_SOURCE_DIR}/proxy/frame.c
  ${PROJECT_SOURCE_DIR}/proxy/json_tree.c
  ${PROJECT_SOURCE_DIR}/proxy/ocpp_msg.c
  ${PROJECT_SOURCE_DIR}/proxy/ocpp_observe.c
  ${PROJECT_SOURCE_DIR}/proxy/ocpp_meter.c
  ${PROJECT_SOURCE_DIR}/proxy/ocpp_profile.c
  ${PROJECT_SOURCE_DIR}/proxy/ocpp_caps.c)
target_include_directories(fuzz_bridge PRIVATE ${PROJECT_SOURCE_DIR}/proxy)
