/*
 * gfio's results, from the JSON it prints.
 */
#include <inttypes.h>
#include <string.h>

#include "gfio-result.h"
#include "pattern.h"

#define JSON_BEGIN  "--- gfio json begin ---\n"
#define JSON_END    "--- gfio json end ---\n"

GfioResult *gfio_result_parse(const char *out)
{
    g_autoptr(GError) err = NULL;
    GfioResult *res = g_new0(GfioResult, 1);
    const char *begin = strstr(out, JSON_BEGIN);
    const char *end = begin ? strstr(begin, JSON_END) : NULL;
    const char *summary, *eol;
    JsonNode *root;
    JsonArray *jobs;

    g_assert_nonnull(begin);
    g_assert_nonnull(end);
    begin += strlen(JSON_BEGIN);
    res->parser = json_parser_new();
    json_parser_load_from_data(res->parser, begin, end - begin, &err);
    g_assert_no_error(err);
    root = json_parser_get_root(res->parser);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(root),
                                                  "fio version"), ==,
                    "gfio-0.1");
    jobs = json_object_get_array_member(json_node_get_object(root), "jobs");
    g_assert_nonnull(jobs);
    g_assert_cmpuint(json_array_get_length(jobs), ==, 1);
    res->job = json_array_get_object_element(jobs, 0);
    g_assert_nonnull(res->job);

    summary = end + strlen(JSON_END);
    g_assert_true(g_str_has_prefix(summary, "gfio: rw="));
    eol = strchr(summary, '\n');
    g_assert_nonnull(eol);
    res->summary = g_strndup(summary, eol - summary);
    return res;
}

void gfio_result_free(GfioResult *res)
{
    g_object_unref(res->parser);
    g_free(res->summary);
    g_free(res);
}

static JsonObject *member_object(JsonObject *o, const char *name)
{
    g_assert_true(json_object_has_member(o, name));
    return json_object_get_object_member(o, name);
}

static gint64 member_int(JsonObject *o, const char *name)
{
    g_assert_true(json_object_has_member(o, name));
    return json_object_get_int_member(o, name);
}

/* A VMM that did not start exits with 1 too: say why before failing. */
static GfioResult *parse_run(const VMRun *r)
{
    if (!strstr(r->out, JSON_BEGIN)) {
        g_test_message("no gfio report; status %d, stderr:\n%s", r->status,
                       r->err);
    }
    return gfio_result_parse(r->out);
}

GfioResult *gfio_assert_pass(const VMRun *r, const char *rw, uint64_t bs,
                             uint64_t size, bool verify)
{
    GfioResult *res = parse_run(r);
    bool writes = strstr(rw, "write") != NULL;
    JsonObject *done = member_object(res->job, writes ? "write" : "read");
    JsonObject *idle = member_object(res->job, writes ? "read" : "write");
    g_autofree char *prefix = g_strdup_printf("gfio: rw=%s bs=%" PRIu64 " ",
                                              rw, bs);
    g_autofree char *verified = g_strdup_printf(" verified=%" PRIu64 " ",
                                                size / bs);

    g_assert_cmpint(r->status, ==, 1);
    g_assert_null(strstr(r->out, "gfio: verify failed"));
    g_assert_cmpint(member_int(res->job, "error"), ==, 0);
    g_assert_cmpstr(json_object_get_string_member(
                        member_object(res->job, "job options"), "rw"), ==, rw);

    g_assert_cmpint(member_int(done, "total_ios"), ==, size / bs);
    g_assert_cmpint(member_int(done, "io_bytes"), ==, size);
    g_assert_cmpint(member_int(done, "short_ios"), ==, 0);
    g_assert_cmpint(member_int(done, "drop_ios"), ==, 0);
    g_assert_true(json_object_has_member(done, "iops"));
    g_assert_cmpfloat(json_object_get_double_member(done, "iops"), >, 0);
    g_assert_cmpint(member_int(member_object(done, "clat_ns"), "N"), ==,
                    size / bs);
    g_assert_cmpint(member_int(idle, "total_ios"), ==, 0);
    g_assert_cmpint(member_int(idle, "io_bytes"), ==, 0);

    g_assert_true(g_str_has_prefix(res->summary, prefix));
    g_assert_true(g_str_has_suffix(res->summary, " OK"));
    if (verify) {
        g_assert_nonnull(strstr(res->summary, verified));
    } else {
        g_assert_null(strstr(res->summary, " verified="));
    }
    return res;
}

GfioResult *gfio_assert_failed(const VMRun *r, int status)
{
    GfioResult *res = parse_run(r);

    g_assert_cmpint(r->status, ==, (status << 1) | 1);
    g_assert_cmpint(member_int(res->job, "error"), ==, status);
    g_assert_true(g_str_has_suffix(res->summary, " FAILED"));
    return res;
}

void gfio_assert_requests(const GfioResult *res, const char *engine,
                          uint64_t requests)
{
    g_autofree char *counters = g_strdup_printf(" %s=[requests=%" PRIu64 " ",
                                                engine, requests);

    if (!strstr(res->summary, counters)) {
        g_test_message("summary: %s", res->summary);
    }
    g_assert_nonnull(strstr(res->summary, counters));
}

uint32_t gfio_le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return gfio_le32(p) | (uint64_t)gfio_le32(p + 4) << 32;
}

void gfio_assert_image(const Image *img, uint64_t bs, uint64_t region,
                       uint64_t seed)
{
    g_autofree uint8_t *data = image_contents(img);

    for (uint64_t off = 0; off < region; off += bs) {
        const uint8_t *b = data + off;
        size_t bad = pattern_mismatch(b + GFIO_HDR_SIZE, off + GFIO_HDR_SIZE,
                                      bs - GFIO_HDR_SIZE, seed);

        if (gfio_le32(b + GFIO_HDR_MAGIC) != GFIO_MAGIC ||
            le64(b + GFIO_HDR_OFFSET) != off || bad != bs - GFIO_HDR_SIZE) {
            g_test_message("image block at offset %" PRIu64 ": magic "
                           "0x%08x, offset %" PRIu64 ", payload differs at "
                           "+%zu", off, gfio_le32(b + GFIO_HDR_MAGIC),
                           le64(b + GFIO_HDR_OFFSET), GFIO_HDR_SIZE + bad);
        }
        g_assert_cmphex(gfio_le32(b + GFIO_HDR_MAGIC), ==, GFIO_MAGIC);
        g_assert_cmpuint(gfio_le32(b + GFIO_HDR_LENGTH), ==, bs);
        g_assert_cmpuint(le64(b + GFIO_HDR_OFFSET), ==, off);
        g_assert_cmpuint(le64(b + GFIO_HDR_SEED), ==, seed);
        g_assert_cmpuint(gfio_le32(b + GFIO_HDR_RESERVED), ==, 0);
        g_assert_cmpuint(bad, ==, bs - GFIO_HDR_SIZE);
    }
    for (uint64_t off = region; off < img->size; off++) {
        if (data[off]) {
            g_test_message("image byte %" PRIu64 " beyond the region was "
                           "written", off);
        }
        g_assert_cmpuint(data[off], ==, 0);
    }
}
