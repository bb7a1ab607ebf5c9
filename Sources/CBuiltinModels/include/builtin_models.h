// The built-in models' weights files, compiled into the binary from models/*.bin.
//
// Why C: clang's `#embed` (C23) copies a file's bytes into an array at compile time, so the
// binary carries models/*.bin byte for byte with nothing in git but the files themselves and a
// list of their names (builtin_models.c, written by tools/embed_models.sh). The bytes live in
// read-only data for the life of the process; nothing decodes them. Swift reads them through
// UpscaleModels' `BuiltinModels`.
#ifndef UPSCALE_BUILTIN_MODELS_H
#define UPSCALE_BUILTIN_MODELS_H

#include <stddef.h>

/// One embedded weights file: the model's name (`x2` for models/x2.bin) and its bytes.
typedef struct {
    const char *name;
    const unsigned char *bytes;
    size_t count;
} cbuiltin_model;

/// The embedded models, sorted by name; `*count` receives how many there are.
const cbuiltin_model *cbuiltin_models(size_t *count);

#endif
