# ruprobes_add_fuzzer(<name> SOURCES <files>... [LIBS <libs>...] [SECONDS <n>])
#
# In the fuzz part (clang): builds the libFuzzer target build/fuzz/<name> with ASan and UBSan.
# In the host part: registers the CTest test fuzz_smoke.<name> (label fuzz-smoke) that runs it for
# SECONDS (default 5) from the seed corpus tests/fuzz/corpus/<name>/, if there is one.
function(ruprobes_add_fuzzer name)
    cmake_parse_arguments(F "" "SECONDS" "SOURCES;LIBS" ${ARGN})
    if(NOT F_SECONDS)
        set(F_SECONDS 5)
    endif()
    if(RUPROBES_PART STREQUAL "fuzz")
        add_executable(${name} ${F_SOURCES})
        target_link_libraries(${name} PRIVATE ${F_LIBS})
        target_link_options(${name} PRIVATE -fsanitize=fuzzer)
        ruprobes_warnings(${name})
    elseif(RUPROBES_PART STREQUAL "host" AND RUPROBES_FUZZERS)
        add_test(NAME fuzz_smoke.${name}
            COMMAND "${PROJECT_SOURCE_DIR}/tests/fuzz/run_smoke.sh"
                    "${CMAKE_BINARY_DIR}/fuzz/${name}" ${F_SECONDS}
                    "${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${name}"
                    "${CMAKE_BINARY_DIR}/fuzz-artifacts/${name}")
        set_tests_properties(fuzz_smoke.${name} PROPERTIES
            LABELS fuzz-smoke TIMEOUT 120)
    endif()
endfunction()
