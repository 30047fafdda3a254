# Warning flags shared by every part of the build; RUPROBES_WERROR (on under CI) makes them errors.
function(ruprobes_warnings target)
    target_compile_options(${target} PRIVATE
        $<$<COMPILE_LANGUAGE:C,CXX>:-Wall -Wextra>
        $<$<AND:$<COMPILE_LANGUAGE:C,CXX>,$<BOOL:${RUPROBES_WERROR}>>:-Werror>)
endfunction()
