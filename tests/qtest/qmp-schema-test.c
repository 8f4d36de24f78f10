/*
 * The QMP schema's flat unions, as query-qmp-schema shows them and as
 * arguments are checked against them, on blockdev-add's BlockdevOptions:
 * the union is an object with the base's members, a "tag" and one
 * "variants" entry per driver; the queries libvirt makes of the schema
 * ("blockdev-add/arg-type/+file/aio/^io_uring") find what is there and
 * nothing else; arguments are the base's members plus the chosen
 * variant's, and anything else is refused with QEMU's words.
 */
#include <string.h>

#include "libqtest.h"

static JsonArray *schema_of(QTestState *qts, JsonObject **reply)
{
    *reply = qtest_qmp(qts, "{'execute':'query-qmp-schema'}");
    return json_node_get_array(qmp_reply_return(*reply));
}

/* The schema's entity called name, or NULL. */
static JsonObject *schema_entry(JsonArray *schema, const char *name)
{
    return qmp_find_by(schema, "name", name);
}

/* The element of array list whose member key is value, or NULL. */
static JsonObject *find_in(JsonObject *e, const char *list, const char *key,
                           const char *value)
{
    return json_object_has_member(e, list)
        ? qmp_find_by(json_object_get_array_member(e, list), key, value)
        : NULL;
}

/*
 * Does the schema have what a libvirt query path names?  Its steps, from a
 * command's name: a key of the command ("arg-type"), a member of an
 * object ("aio"), a variant of a union ("+file"), and last a value of an
 * enum ("^io_uring").  Written from libvirt's documentation of its
 * capability queries.
 */
static bool schema_has(JsonArray *schema, const char *path)
{
    g_auto(GStrv) steps = g_strsplit(path, "/", -1);
    JsonObject *cur = schema_entry(schema, steps[0]);

    for (guint i = 1; cur && steps[i]; i++) {
        const char *meta = json_object_get_string_member(cur, "meta-type");
        const char *step = steps[i];
        JsonObject *m;

        if (!strcmp(meta, "command")) {
            cur = schema_entry(schema,
                               json_object_get_string_member(cur, step));
            continue;
        }
        if (step[0] == '^') {
            JsonArray *values;

            if (strcmp(meta, "enum") || steps[i + 1]) {
                return false;
            }
            values = json_object_get_array_member(cur, "values");
            for (guint j = 0; j < json_array_get_length(values); j++) {
                if (!strcmp(json_array_get_string_element(values, j),
                            step + 1)) {
                    return true;
                }
            }
            return false;
        }
        if (strcmp(meta, "object")) {
            return false;
        }
        m = step[0] == '+' ? find_in(cur, "variants", "case", step + 1)
                           : find_in(cur, "members", "name", step);
        cur = m ? schema_entry(schema, json_object_get_string_member(m, "type"))
                : NULL;
    }
    return cur != NULL;
}

static void assert_strv(JsonArray *a, const char *const *expected)
{
    guint n = g_strv_length((char **)expected);

    g_assert_cmpuint(json_array_get_length(a), ==, n);
    for (guint i = 0; i < n; i++) {
        g_assert_cmpstr(json_array_get_string_element(a, i), ==, expected[i]);
    }
}

/* BlockdevOptions as QEMU introspects a flat union. */
static void test_flat_union_introspection(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    g_autoptr(JsonObject) reply = NULL;
    JsonArray *schema = schema_of(qts, &reply);
    JsonObject *cmd = schema_entry(schema, "blockdev-add");
    JsonObject *u, *file, *v;
    JsonArray *variants;
    static const char *const cases[] = { "file", "null-co", "raw" };
    static const char *const aio[] = { "threads", "io_uring", NULL };

    g_assert_nonnull(cmd);
    g_assert_cmpstr(json_object_get_string_member(cmd, "meta-type"), ==,
                    "command");
    u = schema_entry(schema, json_object_get_string_member(cmd, "arg-type"));
    g_assert_nonnull(u);
    g_assert_cmpstr(json_object_get_string_member(u, "meta-type"), ==,
                    "object");
    g_assert_cmpstr(json_object_get_string_member(u, "tag"), ==, "driver");
    /* The tag is a base member, an enum of exactly the variants' cases. */
    g_assert_nonnull(find_in(u, "members", "name", "driver"));
    g_assert_false(json_object_has_member(
        find_in(u, "members", "name", "driver"), "default"));
    g_assert_nonnull(find_in(u, "members", "name", "node-name"));
    g_assert_nonnull(find_in(u, "members", "name", "cache"));
    g_assert_null(find_in(u, "members", "name", "filename"));
    variants = json_object_get_array_member(u, "variants");
    g_assert_cmpuint(json_array_get_length(variants), ==,
                     G_N_ELEMENTS(cases));
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        v = find_in(u, "variants", "case", cases[i]);
        g_assert_nonnull(v);
        g_assert_nonnull(schema_entry(schema,
                                      json_object_get_string_member(v,
                                                                    "type")));
    }
    {
        JsonObject *drv = schema_entry(schema, json_object_get_string_member(
            find_in(u, "members", "name", "driver"), "type"));
        static const char *const drivers[] = { "file", "null-co", "raw",
                                               NULL };

        g_assert_cmpstr(json_object_get_string_member(drv, "meta-type"), ==,
                        "enum");
        assert_strv(json_object_get_array_member(drv, "values"), drivers);
    }
    /* The file variant: its own members only, aio what block/ has. */
    file = schema_entry(schema, json_object_get_string_member(
        find_in(u, "variants", "case", "file"), "type"));
    g_assert_nonnull(find_in(file, "members", "name", "filename"));
    g_assert_false(json_object_has_member(
        find_in(file, "members", "name", "filename"), "default"));
    g_assert_null(find_in(file, "members", "name", "driver"));
    assert_strv(json_object_get_array_member(
        schema_entry(schema, json_object_get_string_member(
            find_in(file, "members", "name", "aio"), "type")), "values"),
        aio);
}

/* libvirt's queries find what exists, and only that. */
static void test_libvirt_queries(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    g_autoptr(JsonObject) reply = NULL;
    JsonArray *schema = schema_of(qts, &reply);

    g_assert_true(schema_has(schema,
                             "blockdev-add/arg-type/+file/aio/^io_uring"));
    g_assert_true(schema_has(schema, "blockdev-add/arg-type/+raw/file"));
    g_assert_true(schema_has(schema,
                             "query-named-block-nodes/arg-type/flat"));
    g_assert_false(schema_has(schema,
                              "blockdev-add/arg-type/+file/aio/^native"));
    g_assert_false(schema_has(schema, "blockdev-add/arg-type/+file/"
                                      "drop-cache"));
    g_assert_false(schema_has(schema, "blockdev-add/arg-type/+nvme"));
    g_assert_false(schema_has(schema, "blockdev-add/arg-type/+rbd/"
                                      "encrypt"));
}

/* Arguments of a union: the base's and the variant's, nothing else. */
static void test_union_arguments(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    static const struct {
        const char *args, *desc;
    } cases[] = {
        { "{'node-name':'n0','size':1024}",
          "Parameter 'driver' is missing" },
        { "{'driver':'qcow2','node-name':'n0'}",
          "Parameter 'driver' does not accept value 'qcow2'" },
        { "{'driver':7,'node-name':'n0'}",
          "Invalid parameter type for 'driver', expected: string" },
        /* a member of another variant */
        { "{'driver':'null-co','node-name':'n0','filename':'/dev/null'}",
          "Parameter 'filename' is unexpected" },
        { "{'driver':'raw','node-name':'n0','file':'x','aio':'threads'}",
          "Parameter 'aio' is unexpected" },
        /* a member of no variant */
        { "{'driver':'null-co','node-name':'n0','bogus':1}",
          "Parameter 'bogus' is unexpected" },
        { "{'driver':'file','node-name':'n0'}",
          "Parameter 'filename' is missing" },
        { "{'driver':'file','node-name':'n0','filename':'/dev/null',"
          "'aio':'native'}",
          "Parameter 'aio' does not accept value 'native'" },
        { "{'driver':'null-co','node-name':'n0','size':'big'}",
          "Invalid parameter type for 'size', expected: integer" },
        /* base members are checked as deep as any */
        { "{'driver':'null-co','node-name':'n0','cache':{'direct':1}}",
          "Invalid parameter type for 'cache.direct', expected: boolean" },
        { "{'driver':'null-co','node-name':'n0','cache':{'x':true}}",
          "Parameter 'cache.x' is unexpected" },
        { "{'driver':'null-co','node-name':'n0','discard':'trim'}",
          "Parameter 'discard' does not accept value 'trim'" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(JsonObject) r = qtest_qmp(qts,
            "{'execute':'blockdev-add','arguments':%s}", cases[i].args);

        g_assert_cmpstr(qmp_reply_error_class(r), ==, "GenericError");
        g_assert_cmpstr(qmp_reply_error_desc(r), ==, cases[i].desc);
    }
    {
        /* None of them made a node. */
        g_autoptr(JsonObject) r = qtest_qmp(qts,
            "{'execute':'query-named-block-nodes'}");

        g_assert_cmpuint(json_array_get_length(
            json_node_get_array(qmp_reply_return(r))), ==, 0);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp-schema/flat-union/introspection",
                    test_flat_union_introspection);
    g_test_add_func("/qmp-schema/flat-union/libvirt-queries",
                    test_libvirt_queries);
    g_test_add_func("/qmp-schema/flat-union/arguments",
                    test_union_arguments);
    return g_test_run();
}
