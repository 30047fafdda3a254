/* ruprobes engine: the C ABI a kernel links against. */
#ifndef RUPROBES_RUPROBES_H
#define RUPROBES_RUPROBES_H

#ifdef __cplusplus
extern "C" {
#endif

/* The engine's version as "major.minor.patch". */
const char* ruprobes_version(void);

#ifdef __cplusplus
}
#endif

#endif
