// libpng, seen from Swift. setjmp-based error wrappers (cpng_*) live here.
//
// Why these shims exist: libpng reports a fatal error by calling the error callback and then
// longjmp-ing back to the caller's setjmp point. A longjmp across Swift frames is undefined
// behaviour (no cleanup, corrupted state), so Swift never calls a libpng function that can fail
// directly. Each cpng_* function below owns its setjmp and wraps one whole libpng call (or a short
// fixed sequence); it returns 1 on success and 0 on failure, with libpng's message in
// `cpng_error.message`. Warnings are collected in `cpng_error.warnings` instead of going to stderr.
// All I/O is libpng's own stdio code on a FILE* (png_init_io): no Swift closure is ever called
// from inside libpng.
#ifndef CPNG_SHIM_H
#define CPNG_SHIM_H

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cpng_error {
    char message[512];    // the fatal error, empty when none
    char warnings[2048];  // warnings joined by "; ", truncated when long
} cpng_error;

// Error callback: record the message, then jump back to the setjmp of the running cpng_* call.
static void cpng_on_error(png_structp png, png_const_charp message) {
    cpng_error *error = (cpng_error *)png_get_error_ptr(png);
    if (error != NULL) {
        snprintf(error->message, sizeof error->message, "%s", message ? message : "unknown libpng error");
    }
    png_longjmp(png, 1);
}

// Warning callback: collect instead of printing.
static void cpng_on_warning(png_structp png, png_const_charp message) {
    cpng_error *error = (cpng_error *)png_get_error_ptr(png);
    if (error == NULL || message == NULL) return;
    size_t used = strlen(error->warnings);
    if (used + 3 >= sizeof error->warnings) return;
    snprintf(error->warnings + used, sizeof error->warnings - used, "%s%s", used ? "; " : "", message);
}

// ---------------------------------------------------------------------------------------------
// Reading

typedef struct cpng_reader {
    png_structp png;
    png_infop info;
    FILE *file;  // owned: closed by cpng_reader_destroy
    cpng_error error;
} cpng_reader;

// What the header says, plus the row layout after cpng_start_rows.
typedef struct cpng_header {
    png_uint_32 width, height;
    int bit_depth;       // as stored: 1, 2, 4, 8 or 16
    int color_type;      // PNG_COLOR_TYPE_*
    int interlaced;      // 1 for Adam7
    // Set by cpng_start_rows:
    int channels;        // samples per pixel after expansion: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
    int sample_bits;     // 8 or 16 (big-endian samples)
    size_t row_bytes;
    // Colour metadata (pointers owned by libpng, valid until cpng_reader_destroy):
    png_bytep icc;
    png_uint_32 icc_length;
    char icc_name[80];
    int srgb_intent;     // -1 when no sRGB chunk
    double gamma;        // 0 when no gAMA chunk
    // Other metadata before the image data (pointers owned by libpng, as above):
    png_textp text;      // tEXt, zTXt and iTXt chunks, `num_text` of them
    int num_text;
    png_bytep exif;      // the eXIf chunk (TIFF bytes), NULL when none
    png_uint_32 exif_length;
    int has_phys;        // a pHYs chunk: phys_x, phys_y pixels per unit, phys_unit 1 metre, 0 unknown
    png_uint_32 phys_x, phys_y;
    int phys_unit;
} cpng_header;

// Takes ownership of `file` on success; returns NULL (file not taken) when out of memory.
static inline cpng_reader *cpng_reader_create(FILE *file) {
    cpng_reader *reader = (cpng_reader *)calloc(1, sizeof *reader);
    if (reader == NULL) return NULL;
    reader->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader->error, cpng_on_error, cpng_on_warning);
    if (reader->png == NULL) { free(reader); return NULL; }
    reader->info = png_create_info_struct(reader->png);
    if (reader->info == NULL) {
        png_destroy_read_struct(&reader->png, NULL, NULL);
        free(reader);
        return NULL;
    }
    reader->file = file;
    png_set_benign_errors(reader->png, 1);  // a bad ancillary chunk is a warning, not a failure
    png_init_io(reader->png, file);
    return reader;
}

static inline void cpng_reader_destroy(cpng_reader *reader) {
    if (reader == NULL) return;
    png_destroy_read_struct(&reader->png, &reader->info, NULL);
    if (reader->file != NULL) fclose(reader->file);
    free(reader);
}

// Checks the signature and reads every chunk before the image data (png_read_info).
static inline int cpng_read_header(cpng_reader *reader, cpng_header *header) {
    memset(header, 0, sizeof *header);
    header->srgb_intent = -1;
    if (setjmp(png_jmpbuf(reader->png))) return 0;
    png_byte signature[8];
    size_t got = fread(signature, 1, sizeof signature, reader->file);
    if (got != sizeof signature || png_sig_cmp(signature, 0, sizeof signature) != 0) {
        snprintf(reader->error.message, sizeof reader->error.message,
                 got == 0 ? "file is empty" : "not a PNG file (bad signature)");
        return 0;
    }
    png_set_sig_bytes(reader->png, sizeof signature);
    png_read_info(reader->png, reader->info);
    header->width = png_get_image_width(reader->png, reader->info);
    header->height = png_get_image_height(reader->png, reader->info);
    header->bit_depth = png_get_bit_depth(reader->png, reader->info);
    header->color_type = png_get_color_type(reader->png, reader->info);
    header->interlaced = png_get_interlace_type(reader->png, reader->info) == PNG_INTERLACE_ADAM7;
    png_charp name = NULL;
    int compression = 0;
    png_bytep profile = NULL;
    png_uint_32 length = 0;
    if (png_get_iCCP(reader->png, reader->info, &name, &compression, &profile, &length) && profile && length) {
        header->icc = profile;
        header->icc_length = length;
        snprintf(header->icc_name, sizeof header->icc_name, "%s", name ? name : "");
    }
    int intent = 0;
    if (png_get_sRGB(reader->png, reader->info, &intent)) header->srgb_intent = intent;
    double gamma = 0;
    if (png_get_gAMA(reader->png, reader->info, &gamma)) header->gamma = gamma;
    png_get_text(reader->png, reader->info, &header->text, &header->num_text);
    png_bytep exif = NULL;
    png_uint_32 exif_length = 0;
    if (png_get_eXIf_1(reader->png, reader->info, &exif_length, &exif) && exif && exif_length) {
        header->exif = exif;
        header->exif_length = exif_length;
    }
    header->has_phys = png_get_pHYs(reader->png, reader->info, &header->phys_x, &header->phys_y,
                                    &header->phys_unit) != 0;
    return 1;
}

// Asks for 8- or 16-bit gray, gray+alpha, RGB or RGBA rows: palette → RGB, 1/2/4-bit gray
// scaled to 8 bits (v·255/(2^depth−1), exact), tRNS → alpha. No gamma or colour conversion.
static inline int cpng_start_rows(cpng_reader *reader, cpng_header *header) {
    if (setjmp(png_jmpbuf(reader->png))) return 0;
    png_set_expand(reader->png);
    if (header->interlaced) png_set_interlace_handling(reader->png);
    png_read_update_info(reader->png, reader->info);
    header->channels = png_get_channels(reader->png, reader->info);
    header->sample_bits = png_get_bit_depth(reader->png, reader->info);
    header->row_bytes = png_get_rowbytes(reader->png, reader->info);
    return 1;
}

// The next `count` rows of a non-interlaced image (png_read_rows).
static inline int cpng_read_rows(cpng_reader *reader, png_bytepp rows, png_uint_32 count) {
    if (setjmp(png_jmpbuf(reader->png))) return 0;
    png_read_rows(reader->png, rows, NULL, count);
    return 1;
}

// The whole image, every interlace pass (png_read_image); `rows` has one pointer per image row.
static inline int cpng_read_image(cpng_reader *reader, png_bytepp rows) {
    if (setjmp(png_jmpbuf(reader->png))) return 0;
    png_read_image(reader->png, rows);
    return 1;
}

// Reads the chunks after the image data; this is where a truncated or corrupt tail shows up.
static inline int cpng_read_end(cpng_reader *reader) {
    if (setjmp(png_jmpbuf(reader->png))) return 0;
    png_read_end(reader->png, NULL);
    return 1;
}

// ---------------------------------------------------------------------------------------------
// Writing

typedef struct cpng_writer {
    png_structp png;
    png_infop info;
    FILE *file;  // not owned: the caller closes it after cpng_writer_destroy
    cpng_error error;
} cpng_writer;

typedef struct cpng_write_params {
    png_uint_32 width, height;
    int bit_depth;          // 8 or 16
    int color_type;         // PNG_COLOR_TYPE_GRAY, _GRAY_ALPHA, _RGB or _RGB_ALPHA
    int compression_level;  // 0...9
    int filters;            // PNG_FILTER_* mask of the row filters libpng may choose from; 0: libpng's default
    const unsigned char *icc;  // NULL when none
    png_uint_32 icc_length;
    const char *icc_name;      // NULL: "ICC profile"
    int srgb_intent;        // -1 when none
    double gamma;           // 0 when none
    const png_text *text;   // text chunks written before the image data, `num_text` of them
    int num_text;
    const png_byte *exif;   // eXIf chunk (TIFF bytes), NULL when none
    png_uint_32 exif_length;
    int has_phys;           // a pHYs chunk of phys_x, phys_y pixels per unit (phys_unit: 1 metre, 0 unknown)
    png_uint_32 phys_x, phys_y;
    int phys_unit;
    // Used by the tests' fixture writer only (our encoder leaves them zero):
    int interlaced;                    // 1: Adam7 (the tests write such images with png_write_image)
    const png_color *palette;          // PNG_COLOR_TYPE_PALETTE: num_palette entries
    int num_palette;
    const png_byte *trans_alpha;       // palette tRNS: num_trans alphas
    int num_trans;
    const png_color_16 *trans_color;   // gray/RGB tRNS: the transparent colour
} cpng_write_params;

static inline cpng_writer *cpng_writer_create(FILE *file) {
    cpng_writer *writer = (cpng_writer *)calloc(1, sizeof *writer);
    if (writer == NULL) return NULL;
    writer->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &writer->error, cpng_on_error, cpng_on_warning);
    if (writer->png == NULL) { free(writer); return NULL; }
    writer->info = png_create_info_struct(writer->png);
    if (writer->info == NULL) {
        png_destroy_write_struct(&writer->png, NULL);
        free(writer);
        return NULL;
    }
    writer->file = file;
    png_set_benign_errors(writer->png, 1);  // an ICC profile libpng dislikes is dropped with a warning
    png_init_io(writer->png, file);
    return writer;
}

static inline void cpng_writer_destroy(cpng_writer *writer) {
    if (writer == NULL) return;
    png_destroy_write_struct(&writer->png, &writer->info);
    free(writer);
}

// IHDR, colour chunks (iCCP, else sRGB; gAMA alongside), text, eXIf and pHYs, and png_write_info.
static inline int cpng_write_header(cpng_writer *writer, const cpng_write_params *params) {
    if (setjmp(png_jmpbuf(writer->png))) return 0;
    png_set_compression_level(writer->png, params->compression_level);
    if (params->filters != 0) png_set_filter(writer->png, PNG_FILTER_TYPE_BASE, params->filters);
    png_set_IHDR(writer->png, writer->info, params->width, params->height, params->bit_depth,
                 params->color_type, params->interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (params->palette != NULL) png_set_PLTE(writer->png, writer->info, params->palette, params->num_palette);
    if (params->trans_alpha != NULL || params->trans_color != NULL) {
        png_set_tRNS(writer->png, writer->info, params->trans_alpha, params->num_trans, params->trans_color);
    }
    if (params->icc != NULL && params->icc_length > 0) {
        png_set_iCCP(writer->png, writer->info,
                     params->icc_name && params->icc_name[0] ? params->icc_name : "ICC profile",
                     PNG_COMPRESSION_TYPE_BASE, params->icc, params->icc_length);
    } else if (params->srgb_intent >= 0) {
        png_set_sRGB(writer->png, writer->info, params->srgb_intent);
    }
    if (params->gamma > 0) png_set_gAMA(writer->png, writer->info, params->gamma);
    if (params->text != NULL && params->num_text > 0) png_set_text(writer->png, writer->info, params->text, params->num_text);
    if (params->exif != NULL && params->exif_length > 0) {
        png_set_eXIf_1(writer->png, writer->info, params->exif_length, (png_bytep)params->exif);
    }
    if (params->has_phys) {
        png_set_pHYs(writer->png, writer->info, params->phys_x, params->phys_y, params->phys_unit);
    }
    png_write_info(writer->png, writer->info);
    return 1;
}

// `count` rows of big-endian samples laid out as the header says (png_write_rows).
static inline int cpng_write_rows(cpng_writer *writer, png_bytepp rows, png_uint_32 count) {
    if (setjmp(png_jmpbuf(writer->png))) return 0;
    png_write_rows(writer->png, rows, count);
    return 1;
}

// One chunk, framed and CRC-ed by libpng (png_write_chunk): for IDAT data compressed by the
// caller, and the IEND that ends such a file (png_write_end would refuse it: it expects IDATs
// written by libpng's own deflate).
static inline int cpng_write_chunk(cpng_writer *writer, const char *name, const unsigned char *data, size_t length) {
    if (setjmp(png_jmpbuf(writer->png))) return 0;
    png_write_chunk(writer->png, (png_const_bytep)name, data, length);
    return 1;
}

// IEND. Without the info struct: every chunk was written before the image data, and libpng
// 1.6.39 would write the eXIf chunk a second time from it.
static inline int cpng_write_end(cpng_writer *writer) {
    if (setjmp(png_jmpbuf(writer->png))) return 0;
    png_write_end(writer->png, NULL);
    return 1;
}

#endif
