#include "gdb_scripts.hpp"

#include <fstream>

namespace ruprobes::test {

std::string ecall_addresses_script(const temp_dir& dir, const std::string& functions) {
    std::string path = dir.file("ecall_addresses.py");
    std::ofstream(path)
        << "import gdb\n"
           // Text from the program file, so that it works before `run` in extended mode too.
           "gdb.execute('set trust-readonly-sections on')\n"
           "arch = gdb.selected_inferior().architecture()\n"
           "for fn in '"
        << functions
        << "'.split():\n"
           "    pc = int(gdb.parse_and_eval('(long)&' + fn))\n"
           "    prev = None\n"
           "    for i in range(128):\n"
           "        insn = arch.disassemble(pc)[0]\n"
           "        if insn['asm'].split()[0] == 'ecall':\n"
           "            gdb.set_convenience_variable(fn + '_ecall', pc)\n"
           "            gdb.set_convenience_variable(fn + '_before_ecall', prev)\n"
           "            print('ECALL %s %x %x' % (fn, pc, prev))\n"
           "            break\n"
           "        prev = pc\n"
           "        pc += insn['length']\n";
    return path;
}

std::string stepping_trace_script(const temp_dir& dir, int stops, int steps) {
    std::string path = dir.file("stepping_trace.py");
    std::ofstream(path) << "import gdb\n"
                           "def pc():\n"
                           "    return int(gdb.parse_and_eval('$pc')) & 0xffffffffffffffff\n"
                           "for stop in range("
                        << stops
                        << "):\n"
                           "    gdb.execute('continue', to_string=True)\n"
                           "    print('STOP %x' % pc())\n"
                           "    for i in range("
                        << steps
                        << "):\n"
                           "        gdb.execute('stepi', to_string=True)\n"
                           "        print('PC %x' % pc())\n";
    return path;
}

} // namespace ruprobes::test
