/*
 * Splitting a byte stream into JSON texts, as a QMP client sends them: one
 * object after another, with or without whitespace between.  Only the
 * structure is followed here (nesting, strings, escapes); json-glib parses
 * each complete text.  A text longer than JSON_STREAM_MAX_SIZE or nested
 * deeper than JSON_STREAM_MAX_DEPTH is skipped to its end and reported as
 * too large, so a client cannot make the monitor hold more than that.
 *
 * Not thread-safe: one stream per client, fed from the monitor thread.
 */
#ifndef MONITOR_JSON_STREAM_H
#define MONITOR_JSON_STREAM_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define JSON_STREAM_MAX_SIZE    (1u << 20)
#define JSON_STREAM_MAX_DEPTH   1024

/*
 * A complete text (NUL-terminated, len bytes), or text == NULL if it was
 * too large or too deep.
 */
typedef void JsonStreamEmit(void *opaque, const char *text, size_t len);

typedef struct JsonStream {
    GString *buf;
    unsigned depth;
    bool in_string, escape;
    bool in_scalar;             /* a bare token at the top level */
    bool overflow;              /* skipping the rest of a too-large text */
    JsonStreamEmit *emit;
    void *opaque;
} JsonStream;

void json_stream_init(JsonStream *s, JsonStreamEmit *emit, void *opaque);
void json_stream_feed(JsonStream *s, const char *data, size_t len);
/* Forget a partial text (the client went away). */
void json_stream_reset(JsonStream *s);
void json_stream_destroy(JsonStream *s);

#endif
