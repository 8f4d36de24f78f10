/*
 * Streaming JSON output to the console in fio's layout: two-space indent,
 * one member per line, "key" : value.  The writer tracks nesting and commas;
 * keys are plain ASCII, string values are escaped.
 */
#ifndef GUEST_JSON_WRITER_H
#define GUEST_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#define JSON_MAX_DEPTH  16

struct json_writer {
    unsigned int depth;
    bool has_members[JSON_MAX_DEPTH];
};

/* @key is NULL for the top-level value and inside arrays. */
void json_begin_object(struct json_writer *w, const char *key);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w, const char *key);
void json_end_array(struct json_writer *w);
void json_string(struct json_writer *w, const char *key, const char *value);
void json_uint(struct json_writer *w, const char *key, uint64_t value);
/* A number with six decimals given in millionths: 1500000 -> 1.500000 */
void json_fixed6(struct json_writer *w, const char *key, uint64_t micro);

#endif
