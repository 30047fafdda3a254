// The engine's foundation: the freestanding subset of the standard library it may use, and the
// error codes and result type every fallible function returns (ruprobes/error.hpp, shared with the
// wire protocol).
//
// Only headers that need no runtime support are included here; engine code includes this header
// instead of standard headers, so a stray dependency on the hosted library stands out.
#pragma once

// A kernel build (freestanding) must be optimised: at -O0 nothing is inlined and no stack slot is
// shared, and the trap path alone needs 12 KiB of kernel stack (against under 1 KiB at -O1 and
// above; docs/porting.md, "Stack"). GCC and Clang define __OPTIMIZE__ at -O1, -O2, -O3, -Os, -Og.
#if !__STDC_HOSTED__ && !defined(__OPTIMIZE__)
#error "ruprobes engine: compile with -O1, -O2, -O3, -Os or -Og, not -O0 (docs/porting.md, Stack)"
#endif

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>

#include "ruprobes/error.hpp"
