# fuzz_modbus_decode: register decoding and the sanity rules (modbus/decode.c,
# compiled into the target so that it is instrumented) on arbitrary registers
# and map entries; the first input bytes pick the quantity, type and orders.
sitegate_fuzz_target(fuzz_modbus_decode ${CMAKE_CURRENT_LIST_DIR}/fuzz_modbus_decode.c sg_config)
target_sources(fuzz_modbus_decode PRIVATE ${PROJECT_SOURCE_DIR}/modbus/decode.c)
target_include_directories(fuzz_modbus_decode PRIVATE ${PROJECT_SOURCE_DIR}/modbus)
