# fuzz_config: config_parse on arbitrary bytes.
#
# The loader is rebuilt here with coverage instrumentation: linked against the
# plain sg_config, libFuzzer would only see the harness and fuzz blind.
get_target_property(sg_config_dir sg_config SOURCE_DIR)
get_target_property(sg_config_srcs sg_config SOURCES)
list(TRANSFORM sg_config_srcs PREPEND ${sg_config_dir}/)
add_library(sg_config_fuzz STATIC ${sg_config_srcs})
target_include_directories(sg_config_fuzz PUBLIC ${sg_config_dir})
target_compile_options(sg_config_fuzz PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
target_compile_definitions(sg_config_fuzz PRIVATE SITEGATE_TEMPLATE_DIR="${SITEGATE_TEMPLATE_DIR}")
# Linked as sg_config is, so that the two cannot drift apart.
get_target_property(sg_config_libs sg_config LINK_LIBRARIES)
target_link_libraries(sg_config_fuzz PUBLIC ${sg_config_libs})

sitegate_fuzz_target(fuzz_config ${CMAKE_CURRENT_LIST_DIR}/fuzz_config.c sg_config_fuzz)
