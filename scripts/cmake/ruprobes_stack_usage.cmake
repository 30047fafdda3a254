# Worst-case stack use of the freestanding libraries' entry points (docs/porting.md, "Stack").
#
# Guest build: ruprobes_stack_graphs(<library>) compiles the library's sources once more at every
# optimisation level the port guide allows (RUPROBES_STACK_LEVELS), with the library's own flags
# plus -fcallgraph-info=su, as OBJECT libraries linked nowhere: GCC writes one call graph with
# frame sizes (.ci) per source. Host build: ruprobes_add_stack_test(<library> ...) adds one CTest
# per level that sums frames along every call chain from the entry points its headers declare
# (scripts/stack_usage.py) and fails on recursion, an unbounded frame, or a budget exceeded.
# Adding a library is one line on each side; GRAPHS names libraries whose graphs are read too
# (the callee side of calls into another library, e.g. an agent calling the engine).

set(RUPROBES_STACK_LEVELS O1 O2 O3 Os Og)

# Guest side: the call graphs of `library` at every level in RUPROBES_STACK_LEVELS.
function(ruprobes_stack_graphs library)
    get_target_property(sources ${library} SOURCES)
    get_target_property(source_dir ${library} SOURCE_DIR)
    foreach(level IN LISTS RUPROBES_STACK_LEVELS)
        set(graphs ${library}_stack_${level})
        set(absolute "")
        foreach(source IN LISTS sources)
            cmake_path(ABSOLUTE_PATH source BASE_DIRECTORY ${source_dir})
            list(APPEND absolute ${source})
        endforeach()
        add_library(${graphs} OBJECT ${absolute})
        target_include_directories(${graphs} PRIVATE
            $<TARGET_PROPERTY:${library},INCLUDE_DIRECTORIES>)
        target_compile_definitions(${graphs} PRIVATE
            $<TARGET_PROPERTY:${library},COMPILE_DEFINITIONS>)
        target_compile_features(${graphs} PRIVATE cxx_std_20)
        # The library's options, then the level (the last -O wins); no warnings: the library's
        # own build reports them once.
        target_compile_options(${graphs} PRIVATE $<TARGET_PROPERTY:${library},COMPILE_OPTIONS>
                               -${level} -w -fcallgraph-info=su)
        # A compiler cache would answer from its cache without writing the .ci files.
        set_target_properties(${graphs} PROPERTIES C_COMPILER_LAUNCHER "" CXX_COMPILER_LAUNCHER "")
    endforeach()
endfunction()

# Host side: CTest `<library>_stack_<level>` for every level. HEADERS: C headers whose declared
# functions are the entry points; BUDGETS: the budget file; GRAPHS: other libraries whose graphs
# complete the calls (their own entry points are not checked here).
function(ruprobes_add_stack_test library)
    cmake_parse_arguments(arg "" "BUDGETS;LABEL" "HEADERS;GRAPHS" ${ARGN})
    find_package(Python3 COMPONENTS Interpreter QUIET)
    if(NOT TARGET guest OR NOT Python3_Interpreter_FOUND)
        return()
    endif()
    set(objects ${CMAKE_BINARY_DIR}/guest-build)
    foreach(level IN LISTS RUPROBES_STACK_LEVELS)
        set(command ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/stack_usage.py
            --title "${library} at -${level}" --budgets ${arg_BUDGETS} --build-dir ${objects})
        foreach(lib IN ITEMS ${library} ${arg_GRAPHS})
            list(APPEND command --target ${lib}_stack_${level})
        endforeach()
        foreach(header IN LISTS arg_HEADERS)
            list(APPEND command --header ${header})
        endforeach()
        add_test(NAME ${library}_stack_${level} COMMAND ${command})
        set_tests_properties(${library}_stack_${level} PROPERTIES
            LABELS "${arg_LABEL}" TIMEOUT 60)
    endforeach()
endfunction()
