// System-call error numbers: Linux's values, returned negated (-ENOENT).
#pragma once

namespace err {
constexpr long perm = 1, noent = 2, srch = 3, intr = 4, too_big = 7, noexec = 8, child = 10,
               again = 11, nomem = 12, fault = 14, inval = 22, nosys = 38;
} // namespace err
