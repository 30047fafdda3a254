// ruprobesd: the host daemon (GDB Remote Serial Protocol + JSON-RPC 2.0 front ends for the
// in-kernel uprobe engine).
#include <cstdio>
#include <cstring>

namespace {

void print_help(FILE* out) {
    std::fprintf(out, "Usage: ruprobesd [OPTION]...\n"
                      "Host daemon of ruprobes: debug and trace user programs of a RISC-V kernel.\n"
                      "\n"
                      "  -h, --help     show this help and exit\n"
                      "      --version  print the version and exit\n");
}

} // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
            print_help(stdout);
            return 0;
        }
        if (std::strcmp(argv[i], "--version") == 0) {
            std::printf("ruprobesd %s\n", RUPROBES_VERSION);
            return 0;
        }
        std::fprintf(stderr, "ruprobesd: unknown option '%s'\n", argv[i]);
        print_help(stderr);
        return 2;
    }
    std::fprintf(stderr, "ruprobesd: nothing to do yet (see --help)\n");
    return 1;
}
