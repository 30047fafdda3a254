#include "ruprobes/ruprobes.h"

extern "C" const char* ruprobes_version(void) {
    return "0.1.0";
}
