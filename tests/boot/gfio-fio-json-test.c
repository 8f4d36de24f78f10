/*
 * gfio's JSON is fio's: fio's own tools read it, and it has the members
 * fio 3.33 prints (Debian's fio package, which scripts/install-deps.sh
 * installs).
 *
 * A gfio run with output-format=json+ goes through fio_jsonplus_clat2csv;
 * the CSV holds exactly the latency bins of the JSON, and they add up to
 * the run's request counts.  Then gfio's JSON and a real fio run's, with
 * the same job options, have the same members with values of the same
 * types, for json and json+, but for those fio takes from the host that a
 * guest program cannot measure (docs in tests/guest/README.rst); with
 * numjobs=2 too, one member of "jobs" per job as fio, or with
 * group_reporting one for both.
 */
#include <glib/gstdio.h>
#include <inttypes.h>
#include <string.h>

#include "gfio-result.h"
#include "image.h"
#include "vmrun.h"

#define IMAGE_SIZE      (16 * 1024 * 1024)
#define JOB             "rw=randrw bs=4k iodepth=4 size=4M lat_percentiles=1"
#define FIO_JOB         "--rw=randrw", "--bs=4k", "--iodepth=4", \
                        "--size=4M", "--lat_percentiles=1"
#define JSON_BEGIN      "--- gfio json begin ---\n"
#define JSON_END        "--- gfio json end ---\n"
#define TOOL_TIMEOUT_S  120

/* What fio reports that gfio, in a guest, cannot measure: left out. */
static const char *const not_in_gfio[] = {
    "timestamp", "timestamp_ms", "time", "disk_util",
    "jobs[].usr_cpu", "jobs[].sys_cpu", "jobs[].ctx", "jobs[].majf",
    "jobs[].minf",
};

/* A comparison of gfio's JSON with fio's, for the same job. */
typedef struct JsonCase {
    const char *format;         /* output-format= */
    unsigned numjobs;
    bool group_reporting;
} JsonCase;

/*
 * gfio in our VMM with JOB and @c's options (a vCPU and a virtqueue per
 * job); returns its JSON text.
 */
static char *gfio_json(const JsonCase *c)
{
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    g_autofree char *device = g_strdup_printf(",num-queues=%u", c->numjobs);
    VMRunDisk disk = { .image = img->path,
                       .drive = ",cache=writeback,aio=threads",
                       .device = device, .cpus = c->numjobs };
    g_autofree char *append = g_strdup_printf(
        JOB " output-format=%s numjobs=%u%s", c->format, c->numjobs,
        c->group_reporting ? " group_reporting=1" : "");
    g_autoptr(VMRun) r = vmrun_disk(false, &disk, "gfio", append);
    const char *begin = strstr(r->out, JSON_BEGIN);
    const char *summary = begin ? strstr(begin, JSON_END) : NULL;

    g_assert_cmpint(r->status, ==, 1);
    g_assert_nonnull(summary);
    begin += strlen(JSON_BEGIN);
    summary += strlen(JSON_END);
    g_assert_true(g_str_has_prefix(summary, "gfio: rw="));
    g_assert_nonnull(strstr(summary, " OK\n"));
    return g_strndup(begin, summary - strlen(JSON_END) - begin);
}

static JsonParser *parse(const char *text)
{
    g_autoptr(GError) err = NULL;
    JsonParser *p = json_parser_new();

    json_parser_load_from_data(p, text, -1, &err);
    g_assert_no_error(err);
    return p;
}

static JsonObject *root_job(JsonParser *p)
{
    JsonObject *root = json_node_get_object(json_parser_get_root(p));

    return json_array_get_object_element(
        json_object_get_array_member(root, "jobs"), 0);
}

static char *write_tmp(const char *dir, const char *name, const char *text)
{
    char *path = g_build_filename(dir, name, NULL);

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

/* The bins of job.@ddir.@lat, as nsec -> count; empty if it has none. */
static GHashTable *json_bins(JsonObject *job, const char *ddir,
                             const char *lat)
{
    GHashTable *bins = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                             NULL);
    JsonObject *l = json_object_get_object_member(
        json_object_get_object_member(job, ddir), lat);
    JsonObject *b;
    g_autoptr(GList) members = NULL;

    if (!json_object_has_member(l, "bins")) {
        return bins;
    }
    b = json_object_get_object_member(l, "bins");
    members = json_object_get_members(b);
    for (GList *m = members; m; m = m->next) {
        g_hash_table_insert(bins, g_strdup(m->data), GSIZE_TO_POINTER(
                            json_object_get_int_member(b, m->data)));
    }
    return bins;
}

/*
 * The CSV's columns for @ddir and @lat (count, cumulative, percentile):
 * each count is the JSON's bin for that nsec, every bin is there once, and
 * if there are bins, the counts add up to N (the direction's total_ios) and
 * the cumulative count ends at N with percentile 1.0.
 */
static void check_csv_columns(char **rows, JsonObject *job, const char *ddir,
                              const char *lat)
{
    g_auto(GStrv) header = g_strsplit(rows[0], ", ", -1);
    g_autofree char *name = g_strdup_printf("%s_%s_count", ddir, lat);
    g_autoptr(GHashTable) bins = json_bins(job, ddir, lat);
    JsonObject *d = json_object_get_object_member(job, ddir);
    gint64 n = json_object_get_int_member(
        json_object_get_object_member(d, lat), "N");
    gint64 sum = 0, last_cumulative = 0;
    guint col = 0, seen = 0;
    const char *last_percentile = NULL;

    while (header[col] && strcmp(header[col], name)) {
        col++;
    }
    g_assert_nonnull(header[col]);
    g_assert_cmpint(n, ==, json_object_get_int_member(d, "total_ios"));
    for (char **row = rows + 1; *row && **row; row++) {
        g_auto(GStrv) cells = g_strsplit(*row, ", ", -1);
        char *count = g_strstrip(cells[col]);

        if (!*count) {
            continue;
        }
        g_assert_true(g_hash_table_contains(bins, cells[0]));
        g_assert_cmpint(g_ascii_strtoll(count, NULL, 10), ==,
                        GPOINTER_TO_SIZE(g_hash_table_lookup(bins,
                                                             cells[0])));
        sum += g_ascii_strtoll(count, NULL, 10);
        last_cumulative = g_ascii_strtoll(cells[col + 1], NULL, 10);
        g_free((char *)last_percentile);
        last_percentile = g_strdup(g_strstrip(cells[col + 2]));
        seen++;
    }
    g_assert_cmpuint(seen, ==, g_hash_table_size(bins));
    if (seen) {
        g_assert_cmpint(sum, ==, n);
        g_assert_cmpint(last_cumulative, ==, n);
        g_assert_cmpstr(last_percentile, ==, "1.0");
    }
    g_free((char *)last_percentile);
}

static void test_clat2csv(void)
{
    static const JsonCase plus = { "json+", 1, false };
    g_autofree char *text = gfio_json(&plus);
    g_autoptr(JsonParser) p = parse(text);
    JsonObject *job = root_job(p);
    g_autofree char *dir = g_dir_make_tmp("gfio-json-XXXXXX", NULL);
    g_autofree char *json_path = write_tmp(dir, "gfio.json", text);
    g_autofree char *csv_stub = g_build_filename(dir, "gfio.csv", NULL);
    g_autofree char *csv_path = g_build_filename(dir, "gfio_job0.csv", NULL);
    const char *convert[] = { "fio_jsonplus_clat2csv", json_path, csv_stub,
                              NULL };
    const char *validate[] = { "fio_jsonplus_clat2csv", json_path, csv_stub,
                               "--validate", NULL };
    g_autoptr(VMRun) conv = vmrun(convert, TOOL_TIMEOUT_S);
    g_autoptr(VMRun) val = NULL;
    g_autoptr(GHashTable) read_bins = json_bins(job, "read", "clat_ns");
    g_autoptr(GHashTable) write_lat_bins = json_bins(job, "write", "lat_ns");
    g_autofree char *csv = NULL;
    g_auto(GStrv) rows = NULL;

    if (conv->status) {
        g_test_message("fio_jsonplus_clat2csv: %s%s", conv->out, conv->err);
    }
    g_assert_cmpint(conv->status, ==, 0);
    g_assert_true(g_file_get_contents(csv_path, &csv, NULL, NULL));
    rows = g_strsplit(csv, "\n", -1);
    /* gfio did reads and writes; both have clat and lat bins */
    g_assert_cmpint(json_object_get_int_member(
        json_object_get_object_member(job, "read"), "total_ios"), >, 0);
    g_assert_cmpint(json_object_get_int_member(
        json_object_get_object_member(job, "write"), "total_ios"), >, 0);
    for (const char *const *d = (const char *const[]){ "read", "write",
                                                      "trim", NULL };
         *d; d++) {
        check_csv_columns(rows, job, *d, "slat_ns");
        check_csv_columns(rows, job, *d, "clat_ns");
        check_csv_columns(rows, job, *d, "lat_ns");
    }
    /* clat_percentiles=1 (fio's default) and lat_percentiles=1: bins */
    g_assert_cmpuint(g_hash_table_size(read_bins), >, 0);
    g_assert_cmpuint(g_hash_table_size(write_lat_bins), >, 0);

    val = vmrun(validate, TOOL_TIMEOUT_S);
    g_assert_cmpint(val->status, ==, 0);
    g_assert_nonnull(strstr(val->out, "gfio_job0.csv validated"));

    g_unlink(csv_path);
    g_unlink(json_path);
    g_rmdir(dir);
}

/* A leaf's kind: "int", "double", "string", ... */
static const char *kind_of(JsonNode *n)
{
    if (JSON_NODE_HOLDS_VALUE(n)) {
        return g_type_name(json_node_get_value_type(n));
    }
    return JSON_NODE_HOLDS_OBJECT(n) ? "object" :
           JSON_NODE_HOLDS_ARRAY(n) ? "array" : "null";
}

/*
 * Every member's path ("jobs[].read.clat_ns.N") and kind; members named
 * by values (job options, bins) are not descended into.
 */
static void collect(JsonNode *n, const char *path, GHashTable *out)
{
    g_hash_table_insert(out, g_strdup(path), (gpointer)kind_of(n));
    if (g_str_has_suffix(path, "job options") ||
        g_str_has_suffix(path, ".bins")) {
        return;
    }
    if (JSON_NODE_HOLDS_OBJECT(n)) {
        JsonObject *o = json_node_get_object(n);
        g_autoptr(GList) members = json_object_get_members(o);

        for (GList *m = members; m; m = m->next) {
            g_autofree char *sub = *path ? g_strdup_printf("%s.%s", path,
                                                           (char *)m->data)
                                         : g_strdup(m->data);
            collect(json_object_get_member(o, m->data), sub, out);
        }
    } else if (JSON_NODE_HOLDS_ARRAY(n)) {
        JsonArray *a = json_node_get_array(n);
        g_autofree char *sub = g_strdup_printf("%s[]", path);

        for (guint i = 0; i < json_array_get_length(a); i++) {
            collect(json_array_get_element(a, i), sub, out);
        }
    }
}

static bool left_out(const char *path)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(not_in_gfio); i++) {
        size_t len = strlen(not_in_gfio[i]);

        if (!strncmp(path, not_in_gfio[i], len) &&
            (!path[len] || path[len] == '.' || path[len] == '[')) {
            return true;
        }
    }
    return false;
}

static guint jobs_length(JsonParser *p)
{
    return json_array_get_length(json_object_get_array_member(
        json_node_get_object(json_parser_get_root(p)), "jobs"));
}

static void test_members(gconstpointer data)
{
    const JsonCase *c = data;
    const char *format = c->format;
    g_autofree char *text = gfio_json(c);
    g_autoptr(JsonParser) ours = parse(text);
    g_autoptr(Image) img = image_new(IMAGE_SIZE);
    g_autofree char *dir = g_dir_make_tmp("gfio-json-XXXXXX", NULL);
    g_autofree char *fio_path = g_build_filename(dir, "fio.json", NULL);
    g_autofree char *filename = g_strdup_printf("--filename=%s", img->path);
    g_autofree char *output = g_strdup_printf("--output=%s", fio_path);
    g_autofree char *output_format = g_strdup_printf("--output-format=%s",
                                                     format);
    g_autofree char *numjobs = g_strdup_printf("--numjobs=%u", c->numjobs);
    const char *fio[] = { "fio", "--name=gfio", filename, "--ioengine=psync",
                          FIO_JOB, output_format, output, numjobs,
                          c->group_reporting ? "--group_reporting" : NULL,
                          NULL };
    g_autoptr(VMRun) run = vmrun(fio, TOOL_TIMEOUT_S);
    g_autofree char *fio_text = NULL;
    g_autoptr(JsonParser) theirs = NULL;
    g_autoptr(GHashTable) ours_members = g_hash_table_new_full(
        g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GHashTable) fio_members = g_hash_table_new_full(
        g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter it;
    gpointer key, value;

    if (run->status) {
        g_test_message("fio: %s%s", run->out, run->err);
    }
    g_assert_cmpint(run->status, ==, 0);
    g_assert_true(g_file_get_contents(fio_path, &fio_text, NULL, NULL));
    theirs = parse(fio_text);
    g_assert_cmpuint(jobs_length(ours), ==, jobs_length(theirs));
    g_assert_cmpuint(jobs_length(ours), ==,
                     c->group_reporting ? 1 : c->numjobs);
    collect(json_parser_get_root(ours), "", ours_members);
    collect(json_parser_get_root(theirs), "", fio_members);

    g_hash_table_iter_init(&it, fio_members);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        const char *kind = g_hash_table_lookup(ours_members, key);

        if (left_out(key)) {
            g_assert_null(kind);
            continue;
        }
        if (!kind) {
            g_error("gfio's %s JSON lacks fio's %s", format, (char *)key);
        }
        if (strcmp(kind, value)) {
            g_error("gfio's %s is %s, fio's %s", (char *)key, kind,
                    (char *)value);
        }
    }
    g_hash_table_iter_init(&it, ours_members);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        if (!g_hash_table_contains(fio_members, key)) {
            g_error("gfio's %s JSON has %s, which fio's has not", format,
                    (char *)key);
        }
    }

    g_unlink(fio_path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    static const JsonCase json = { "json", 1, false };
    static const JsonCase json_plus = { "json+", 1, false };
    static const JsonCase two_jobs = { "json", 2, false };
    static const JsonCase two_jobs_grouped = { "json+", 2, true };

    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gfio-fio-json/clat2csv", test_clat2csv);

    g_test_add_data_func("/gfio-fio-json/members/json", &json, test_members);
    g_test_add_data_func("/gfio-fio-json/members/json+", &json_plus,
                         test_members);
    g_test_add_data_func("/gfio-fio-json/members/numjobs=2", &two_jobs,
                         test_members);
    g_test_add_data_func("/gfio-fio-json/members/numjobs=2-group_reporting",
                         &two_jobs_grouped, test_members);
    return g_test_run();
}
