// libwebp (decode, encode), libwebpdemux and libwebpmux, seen from Swift. Wrappers are cwebp_*.
//
// libwebp reports errors through return values (VP8StatusCode, WebPEncodingError, WebPMuxError):
// there is no setjmp here. The shims below exist for two other reasons:
//   - the encoder writes its bytes through a C callback in WebPPicture; cwebp_encode installs
//     libwebp's own WebPMemoryWrite there, so no Swift closure is ever called from inside libwebp;
//   - adding ICCP/EXIF chunks to an encoded image is a fixed mux sequence (create, set chunks,
//     assemble, delete) with an error at each step; cwebp_add_metadata runs it once, in C.
// Everything else (WebPGetFeatures, the incremental decoder, the demuxer) is called from Swift.
#ifndef CWEBP_SHIM_H
#define CWEBP_SHIM_H

#include <stdio.h>
#include <string.h>
#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>
#include <webp/mux.h>

// WebPEncode of `picture` (its argb filled in) into `out` (initialised by WebPMemoryWriterInit,
// cleared by the caller with WebPMemoryWriterClear). Returns 1 on success; on failure 0, with
// picture->error_code saying why.
static inline int cwebp_encode(const WebPConfig *config, WebPPicture *picture, WebPMemoryWriter *out) {
    picture->writer = WebPMemoryWrite;
    picture->custom_ptr = out;
    return WebPEncode(config, picture);
}

// The image `webp` (a whole .webp file) with an ICCP and/or EXIF chunk added (either may be
// NULL): the muxer writes the VP8X header that announces them. Returns 1 and fills `out`
// (released by the caller with WebPDataClear), or 0 with a message.
static inline int cwebp_add_metadata(const uint8_t *webp, size_t webp_size,
                                     const uint8_t *icc, size_t icc_size,
                                     const uint8_t *exif, size_t exif_size,
                                     WebPData *out, char *message, size_t message_size) {
    WebPDataInit(out);
    WebPData image = { webp, webp_size };
    WebPMux *mux = WebPMuxCreate(&image, 0);
    if (mux == NULL) {
        snprintf(message, message_size, "libwebpmux could not parse the encoded image");
        return 0;
    }
    WebPMuxError error = WEBP_MUX_OK;
    const char *step = "";
    if (icc != NULL && icc_size > 0) {
        WebPData chunk = { icc, icc_size };
        error = WebPMuxSetChunk(mux, "ICCP", &chunk, 1);
        step = "adding the ICC profile";
    }
    if (error == WEBP_MUX_OK && exif != NULL && exif_size > 0) {
        WebPData chunk = { exif, exif_size };
        error = WebPMuxSetChunk(mux, "EXIF", &chunk, 1);
        step = "adding EXIF";
    }
    if (error == WEBP_MUX_OK) {
        error = WebPMuxAssemble(mux, out);
        step = "assembling the file";
    }
    WebPMuxDelete(mux);
    if (error != WEBP_MUX_OK) {
        snprintf(message, message_size, "libwebpmux failed %s (error %d)", step, (int)error);
        WebPDataClear(out);
        return 0;
    }
    return 1;
}

#endif
