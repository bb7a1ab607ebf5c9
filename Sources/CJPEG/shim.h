// libjpeg(-turbo), seen from Swift. setjmp-based error wrappers (cjpeg_*) live here.
#ifndef CJPEG_SHIM_H
#define CJPEG_SHIM_H
#include <stdio.h>
#include <jpeglib.h>
#endif
