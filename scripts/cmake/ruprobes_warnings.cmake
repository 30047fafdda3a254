# Warning flags shared by every part of the build; RUPROBES_WERROR (on under CI) makes them errors.
function(ruprobes_warnings target)
    target_compile_options(${target} PRIVATE
        $<$<COMPILE_LANGUAGE:C,CXX>:-Wall -Wextra>
        $<$<AND:$<COMPILE_LANGUAGE:C,CXX>,$<BOOL:${RUPROBES_WERROR}>>:-Werror>)
    # g++ 12 reports Asio's recycled coroutine-frame allocator as -Wmismatched-new-delete in
    # inlined C++20 coroutines (a false positive); it would stop every daemon build under CI.
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
        target_compile_options(${target} PRIVATE
            $<$<COMPILE_LANGUAGE:CXX>:-Wno-mismatched-new-delete>)
    endif()
endfunction()
