/*
 * Splitting a byte stream into JSON texts.
 */
#include "monitor/json-stream.h"

void json_stream_init(JsonStream *s, JsonStreamEmit *emit, void *opaque)
{
    *s = (JsonStream) {
        .buf = g_string_new(NULL),
        .emit = emit,
        .opaque = opaque,
    };
}

void json_stream_reset(JsonStream *s)
{
    g_string_truncate(s->buf, 0);
    s->depth = 0;
    s->in_string = s->escape = s->in_scalar = s->overflow = false;
}

void json_stream_destroy(JsonStream *s)
{
    g_string_free(s->buf, TRUE);
    s->buf = NULL;
}

static void finish(JsonStream *s)
{
    bool overflow = s->overflow;

    if (overflow) {
        s->emit(s->opaque, NULL, 0);
    } else {
        s->emit(s->opaque, s->buf->str, s->buf->len);
    }
    json_stream_reset(s);
}

static void append(JsonStream *s, char c)
{
    if (s->overflow) {
        return;
    }
    if (s->buf->len >= JSON_STREAM_MAX_SIZE) {
        s->overflow = true;
        g_string_truncate(s->buf, 0);
        return;
    }
    g_string_append_c(s->buf, c);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_structural(char c)
{
    return c == '{' || c == '}' || c == '[' || c == ']' || c == '"' ||
           c == ',' || c == ':';
}

static void feed_char(JsonStream *s, char c)
{
    if (s->in_scalar) {
        if (!is_space(c) && !is_structural(c)) {
            append(s, c);
            return;
        }
        /* A bare top-level token ends here; c starts what follows. */
        finish(s);
    }
    if (s->in_string) {
        append(s, c);
        if (s->escape) {
            s->escape = false;
        } else if (c == '\\') {
            s->escape = true;
        } else if (c == '"') {
            s->in_string = false;
            if (!s->depth) {
                finish(s);
            }
        }
        return;
    }
    if (!s->depth && is_space(c)) {
        return;
    }
    append(s, c);
    switch (c) {
    case '"':
        s->in_string = true;
        break;
    case '{':
    case '[':
        if (++s->depth > JSON_STREAM_MAX_DEPTH) {
            s->overflow = true;
            g_string_truncate(s->buf, 0);
        }
        break;
    case '}':
    case ']':
        /* A closing bracket at the top level is a text of its own. */
        if (!s->depth || !--s->depth) {
            finish(s);
        }
        break;
    default:
        if (!s->depth && !is_structural(c)) {
            s->in_scalar = true;
        } else if (!s->depth) {
            finish(s);
        }
        break;
    }
}

void json_stream_feed(JsonStream *s, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        feed_char(s, data[i]);
    }
}
