// libpng, seen from Swift. setjmp-based error wrappers (cpng_*) live here.
#ifndef CPNG_SHIM_H
#define CPNG_SHIM_H
#include <png.h>
#endif
