#include "ruprobes/base.hpp"

namespace ruprobes {

const char* error_name(error e) {
    switch (e) {
    case error::ok:
        return "ok";
    case error::insn_ecall:
        return "insn_ecall";
    case error::insn_ebreak:
        return "insn_ebreak";
    case error::insn_csr:
        return "insn_csr";
    case error::insn_privileged:
        return "insn_privileged";
    case error::insn_fence_i:
        return "insn_fence_i";
    case error::insn_lr_sc:
        return "insn_lr_sc";
    case error::insn_illegal:
        return "insn_illegal";
    case error::addr_misaligned:
        return "addr_misaligned";
    case error::addr_not_boundary:
        return "addr_not_boundary";
    case error::addr_outside_text:
        return "addr_outside_text";
    case error::no_space:
        return "no_space";
    case error::not_found:
        return "not_found";
    case error::already_exists:
        return "already_exists";
    case error::text_changed:
        return "text_changed";
    case error::invalid_argument:
        return "invalid_argument";
    case error::fault_load:
        return "fault_load";
    case error::fault_store:
        return "fault_store";
    case error::fault_fetch:
        return "fault_fetch";
    case error::not_ours:
        return "not_ours";
    case error::port_failure:
        return "port_failure";
    }
    return "unknown";
}

} // namespace ruprobes
