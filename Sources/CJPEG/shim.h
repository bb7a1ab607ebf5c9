// libjpeg(-turbo), seen from Swift. setjmp-based error wrappers (cjpeg_*) live here.
//
// Why these shims exist: libjpeg's default error handler `error_exit` prints and calls exit(),
// which would end the whole process on a corrupt file. We install our own handler that records
// the message and longjmp-s back to a setjmp; since a longjmp across Swift frames is undefined
// behaviour, each cjpeg_* function owns its setjmp and wraps one whole libjpeg call (or a short
// fixed sequence), returning 1 on success and 0 on failure with the message in
// `cjpeg_error.message`. Warnings are collected, never printed; the two that mean "the data ended
// early" (premature end of file / of a data segment) are treated as errors, because libjpeg
// would otherwise hand back a silently grey-filled image for a truncated file.
// All I/O is libjpeg's own stdio source/destination on a FILE*: no Swift closure is ever called
// from inside libjpeg.
#ifndef CJPEG_SHIM_H
#define CJPEG_SHIM_H

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct cjpeg_error {
    struct jpeg_error_mgr manager;  // first member: libjpeg sees a jpeg_error_mgr*
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX + 32];  // the fatal error, empty when none
    char warnings[2048];                 // warnings joined by "; ", truncated when long
} cjpeg_error;

static void cjpeg_on_error_exit(j_common_ptr cinfo) {
    cjpeg_error *error = (cjpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, error->message);
    longjmp(error->jump, 1);
}

// level < 0: a warning; level >= 0: trace output, ignored.
static void cjpeg_on_emit_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;
    cjpeg_error *error = (cjpeg_error *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER) {
        snprintf(error->message, sizeof error->message, "%s (file truncated?)", text);
        longjmp(error->jump, 1);
    }
    cinfo->err->num_warnings++;
    size_t used = strlen(error->warnings);
    if (used + 3 >= sizeof error->warnings) return;
    snprintf(error->warnings + used, sizeof error->warnings - used, "%s%s", used ? "; " : "", text);
}

static void cjpeg_on_output_message(j_common_ptr cinfo) { (void)cinfo; }

static inline void cjpeg_install_error(cjpeg_error *error, j_common_ptr cinfo) {
    cinfo->err = jpeg_std_error(&error->manager);
    error->manager.error_exit = cjpeg_on_error_exit;
    error->manager.emit_message = cjpeg_on_emit_message;
    error->manager.output_message = cjpeg_on_output_message;
}

// ---------------------------------------------------------------------------------------------
// Reading

typedef struct cjpeg_reader {
    struct jpeg_decompress_struct cinfo;
    cjpeg_error error;
    FILE *file;  // owned: closed by cjpeg_reader_destroy
    int created;
} cjpeg_reader;

// Takes ownership of `file` on success; returns NULL (file not taken) when out of memory.
static inline cjpeg_reader *cjpeg_reader_create(FILE *file) {
    cjpeg_reader *reader = (cjpeg_reader *)calloc(1, sizeof *reader);
    if (reader == NULL) return NULL;
    cjpeg_install_error(&reader->error, (j_common_ptr)&reader->cinfo);
    if (setjmp(reader->error.jump)) {
        if (reader->created) jpeg_destroy_decompress(&reader->cinfo);
        free(reader);
        return NULL;
    }
    jpeg_create_decompress(&reader->cinfo);
    reader->created = 1;
    jpeg_stdio_src(&reader->cinfo, file);
    reader->file = file;
    return reader;
}

static inline void cjpeg_reader_destroy(cjpeg_reader *reader) {
    if (reader == NULL) return;
    if (reader->created) jpeg_destroy_decompress(&reader->cinfo);
    if (reader->file != NULL) fclose(reader->file);
    free(reader);
}

// jpeg_read_header, keeping APP1 (Exif) and APP2 (ICC) markers for later.
static inline int cjpeg_read_header(cjpeg_reader *reader) {
    if (setjmp(reader->error.jump)) return 0;
    jpeg_save_markers(&reader->cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_save_markers(&reader->cinfo, JPEG_APP0 + 2, 0xFFFF);
    if (jpeg_read_header(&reader->cinfo, TRUE) != JPEG_HEADER_OK) {
        snprintf(reader->error.message, sizeof reader->error.message, "no image in the JPEG stream");
        return 0;
    }
    return 1;
}

// The first APP1 marker that starts with "Exif\0\0": its whole payload (including that prefix).
// Memory owned by libjpeg, valid until the reader is destroyed. NULL when none.
static inline const JOCTET *cjpeg_exif(const cjpeg_reader *reader, unsigned *length) {
    for (jpeg_saved_marker_ptr m = reader->cinfo.marker_list; m != NULL; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && memcmp(m->data, "Exif\0\0", 6) == 0) {
            *length = m->data_length;
            return m->data;
        }
    }
    *length = 0;
    return NULL;
}

// The ICC profile reassembled from its APP2 markers (jpeg_read_icc_profile); *data is malloc-ed,
// the caller frees it. Returns 1 with *data NULL when there is none or it is malformed.
static inline int cjpeg_read_icc(cjpeg_reader *reader, JOCTET **data, unsigned *length) {
    *data = NULL;
    *length = 0;
    if (setjmp(reader->error.jump)) return 0;
    if (!jpeg_read_icc_profile(&reader->cinfo, data, length)) { *data = NULL; *length = 0; }
    return 1;
}

// Picks the output colour space (JCS_GRAYSCALE or JCS_RGB) and starts decompression.
static inline int cjpeg_start(cjpeg_reader *reader, J_COLOR_SPACE out_color_space) {
    if (setjmp(reader->error.jump)) return 0;
    reader->cinfo.out_color_space = out_color_space;
    jpeg_start_decompress(&reader->cinfo);
    return 1;
}

// Exactly `count` more scanlines into `rows` (count ≤ remaining rows).
static inline int cjpeg_read_rows(cjpeg_reader *reader, JSAMPARRAY rows, JDIMENSION count) {
    if (setjmp(reader->error.jump)) return 0;
    JDIMENSION done = 0;
    while (done < count) {
        JDIMENSION got = jpeg_read_scanlines(&reader->cinfo, rows + done, count - done);
        if (got == 0) {
            snprintf(reader->error.message, sizeof reader->error.message, "no more scanlines in the JPEG stream");
            return 0;
        }
        done += got;
    }
    return 1;
}

// Reads up to the EOI marker (jpeg_finish_decompress).
static inline int cjpeg_finish(cjpeg_reader *reader) {
    if (setjmp(reader->error.jump)) return 0;
    jpeg_finish_decompress(&reader->cinfo);
    return 1;
}

// ---------------------------------------------------------------------------------------------
// Writing

typedef struct cjpeg_writer {
    struct jpeg_compress_struct cinfo;
    cjpeg_error error;
    int created;
} cjpeg_writer;

typedef struct cjpeg_write_params {
    JDIMENSION width, height;
    int components;    // 1 gray or 3 RGB (4 CMYK: only the tests write it, to check it is refused)
    int quality;       // 1...100
    int chroma_420;    // 1: 4:2:0 subsampling, 0: 4:4:4
    int progressive;
    int standard_tables; // 1: libjpeg's standard Huffman tables, written as rows arrive; 0: tables
                         // optimized for the image, which makes libjpeg keep every DCT coefficient
                         // of the image (2 bytes per sample) until jpeg_finish_compress
    const JOCTET *icc; // NULL when none
    unsigned icc_length;
    const JOCTET *exif;  // an APP1 payload ("Exif\0\0" + TIFF bytes), NULL when none
    unsigned exif_length;
    int density_unit;  // the JFIF header's: 0 aspect ratio only, 1 dots per inch, 2 per cm
    unsigned x_density, y_density;  // 1...65535; 0: libjpeg's default (1:1, no unit)
} cjpeg_write_params;

// Writes to `file`, which stays owned by the caller. NULL when out of memory.
static inline cjpeg_writer *cjpeg_writer_create(FILE *file) {
    cjpeg_writer *writer = (cjpeg_writer *)calloc(1, sizeof *writer);
    if (writer == NULL) return NULL;
    cjpeg_install_error(&writer->error, (j_common_ptr)&writer->cinfo);
    if (setjmp(writer->error.jump)) {
        if (writer->created) jpeg_destroy_compress(&writer->cinfo);
        free(writer);
        return NULL;
    }
    jpeg_create_compress(&writer->cinfo);
    writer->created = 1;
    jpeg_stdio_dest(&writer->cinfo, file);
    return writer;
}

static inline void cjpeg_writer_destroy(cjpeg_writer *writer) {
    if (writer == NULL) return;
    if (writer->created) jpeg_destroy_compress(&writer->cinfo);
    free(writer);
}

// Parameters, Huffman tables (optimized unless standard_tables), the JFIF density, jpeg_start_compress
// (SOI, JFIF APP0), the Exif APP1, then the ICC profile as APP2 markers (jpeg_write_icc_profile
// splits it into ≤ 65519-byte pieces).
static inline int cjpeg_start_compress(cjpeg_writer *writer, const cjpeg_write_params *params) {
    if (setjmp(writer->error.jump)) return 0;
    struct jpeg_compress_struct *cinfo = &writer->cinfo;
    cinfo->image_width = params->width;
    cinfo->image_height = params->height;
    cinfo->input_components = params->components;
    cinfo->in_color_space = params->components == 1 ? JCS_GRAYSCALE : params->components == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(cinfo);
    jpeg_set_quality(cinfo, params->quality, TRUE);
    cinfo->optimize_coding = params->standard_tables ? FALSE : TRUE;
    if (params->components == 3) {
        int luma = params->chroma_420 ? 2 : 1;
        cinfo->comp_info[0].h_samp_factor = luma;
        cinfo->comp_info[0].v_samp_factor = luma;
        cinfo->comp_info[1].h_samp_factor = 1;
        cinfo->comp_info[1].v_samp_factor = 1;
        cinfo->comp_info[2].h_samp_factor = 1;
        cinfo->comp_info[2].v_samp_factor = 1;
    }
    if (params->progressive) jpeg_simple_progression(cinfo);
    if (params->x_density > 0 && params->y_density > 0) {
        cinfo->density_unit = (UINT8)params->density_unit;
        cinfo->X_density = (UINT16)params->x_density;
        cinfo->Y_density = (UINT16)params->y_density;
    }
    jpeg_start_compress(cinfo, TRUE);
    if (params->exif != NULL && params->exif_length > 0) {
        jpeg_write_marker(cinfo, JPEG_APP0 + 1, params->exif, params->exif_length);
    }
    if (params->icc != NULL && params->icc_length > 0) {
        jpeg_write_icc_profile(cinfo, params->icc, params->icc_length);
    }
    return 1;
}

// Exactly `count` scanlines from `rows`.
static inline int cjpeg_write_rows(cjpeg_writer *writer, JSAMPARRAY rows, JDIMENSION count) {
    if (setjmp(writer->error.jump)) return 0;
    JDIMENSION done = 0;
    while (done < count) {
        JDIMENSION put = jpeg_write_scanlines(&writer->cinfo, rows + done, count - done);
        if (put == 0) {
            snprintf(writer->error.message, sizeof writer->error.message, "libjpeg accepted no scanlines");
            return 0;
        }
        done += put;
    }
    return 1;
}

static inline int cjpeg_finish_compress(cjpeg_writer *writer) {
    if (setjmp(writer->error.jump)) return 0;
    jpeg_finish_compress(&writer->cinfo);
    return 1;
}

#endif
