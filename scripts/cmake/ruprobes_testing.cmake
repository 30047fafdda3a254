# Helpers every test folder uses. Labels (ctest -L): unit, integration, e2e, fuzz-smoke.
include(GoogleTest)

# ruprobes_add_gtest(<name> LABEL <label> [TIMEOUT <seconds>] SOURCES <files>... [LIBS <libs>...]
#                    [NEEDS_GUEST])
# One GoogleTest binary (build/tests/<name>); each TEST becomes a CTest test labelled <label>.
# NEEDS_GUEST: the test boots build/guest/kernel.elf, so the guest build must be done first.
function(ruprobes_add_gtest name)
    cmake_parse_arguments(T "NEEDS_GUEST" "LABEL;TIMEOUT" "SOURCES;LIBS" ${ARGN})
    if(NOT T_LABEL)
        message(FATAL_ERROR "ruprobes_add_gtest(${name}): LABEL is required")
    endif()
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 60)
    endif()
    add_executable(${name} ${T_SOURCES})
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/tests")
    target_link_libraries(${name} PRIVATE ruprobes_test_support GTest::gtest GTest::gmock
                                          GTest::gtest_main ${T_LIBS})
    ruprobes_warnings(${name})
    if(T_NEEDS_GUEST AND TARGET guest)
        add_dependencies(${name} guest)
    endif()
    gtest_discover_tests(${name}
        DISCOVERY_MODE PRE_TEST
        DISCOVERY_TIMEOUT 60
        PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT})
endfunction()
