# The OCPP-J envelope parser and writers (proxy/frame.c, #included by the target).
sitegate_fuzz_target(fuzz_frame fuzz_frame.c sg_log)
target_include_directories(fuzz_frame PRIVATE ${PROJECT_SOURCE_DIR}/proxy)
