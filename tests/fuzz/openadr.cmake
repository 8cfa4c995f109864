# fuzz_openadr_event: the demand-response event parser on arbitrary bytes,
# then the schedule, the persisted form and the opt response on what it
# accepts.
#
# The pure openadr sources are rebuilt here with coverage instrumentation:
# linked against the plain sg_openadr, libFuzzer would only see the harness.
get_target_property(sg_openadr_dir sg_openadr SOURCE_DIR)
get_target_property(sg_openadr_srcs sg_openadr SOURCES)
list(TRANSFORM sg_openadr_srcs PREPEND ${sg_openadr_dir}/)
add_library(sg_openadr_fuzz STATIC ${sg_openadr_srcs})
target_include_directories(sg_openadr_fuzz PUBLIC ${sg_openadr_dir})
target_compile_options(sg_openadr_fuzz PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
target_link_libraries(sg_openadr_fuzz PUBLIC m cjson)

sitegate_fuzz_target(fuzz_openadr_event ${CMAKE_CURRENT_LIST_DIR}/fuzz_openadr_event.c
                     sg_openadr_fuzz cjson)
