/* JSON output in fio's formatting; see json_writer.h. */
#include "json_writer.h"

#include "exit.h"
#include "libc.h"

static void indent(unsigned int depth)
{
    printf("%*s", (int)(2 * depth), "");
}

static void print_escaped(const char *s)
{
    printf("\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            printf("\\%c", *s);
        } else if ((unsigned char)*s < 0x20) {
            printf("\\u%04x", (unsigned char)*s);
        } else {
            printf("%c", *s);
        }
    }
    printf("\"");
}

/* Start a member (or element): comma after the previous one, indent, key. */
static void begin_member(struct json_writer *w, const char *key)
{
    if (w->depth) {
        printf("%s\n", w->has_members[w->depth] ? "," : "");
        w->has_members[w->depth] = true;
        indent(w->depth);
    }
    if (key) {
        print_escaped(key);
        printf(" : ");
    }
}

static void open_container(struct json_writer *w, const char *key, char bracket)
{
    begin_member(w, key);
    printf("%c", bracket);
    if (++w->depth >= JSON_MAX_DEPTH) {
        guest_panic("json_writer: nesting deeper than %d", JSON_MAX_DEPTH);
    }
    w->has_members[w->depth] = false;
}

static void close_container(struct json_writer *w, char bracket)
{
    bool had_members = w->has_members[w->depth--];

    if (had_members) {
        printf("\n");
        indent(w->depth);
    }
    printf("%c%s", bracket, w->depth ? "" : "\n");
}

void json_begin_object(struct json_writer *w, const char *key)
{
    open_container(w, key, '{');
}

void json_end_object(struct json_writer *w)
{
    close_container(w, '}');
}

void json_begin_array(struct json_writer *w, const char *key)
{
    open_container(w, key, '[');
}

void json_end_array(struct json_writer *w)
{
    close_container(w, ']');
}

void json_string(struct json_writer *w, const char *key, const char *value)
{
    begin_member(w, key);
    print_escaped(value);
}

void json_uint(struct json_writer *w, const char *key, uint64_t value)
{
    begin_member(w, key);
    printf("%lu", value);
}

void json_fixed6(struct json_writer *w, const char *key, uint64_t micro)
{
    begin_member(w, key);
    printf("%lu.%06lu", micro / 1000000, micro % 1000000);
}
