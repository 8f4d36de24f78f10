/*
 * QEMU's JSON option syntax read into QemuOpts: every key=value it gives,
 * in order, from text or from an object already parsed, and the errors.
 */
#include <glib.h>

#include "qemu/keyval-json.h"

static bool append_opt(void *opaque, const char *name, const char *value,
                       GError **errp)
{
    GString *s = opaque;

    g_string_append_printf(s, "%s%s=%s", s->len ? "," : "", name, value);
    return true;
}

/* The options json gives, as "key=value,key=value". */
static char *flatten(const char *json)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(QemuOpts) opts = qemu_opts_parse_dict(json, "driver", &err);
    GString *s = g_string_new(NULL);

    g_assert_no_error(err);
    g_assert_true(qemu_opt_foreach(opts, append_opt, s, NULL));
    return g_string_free(s, FALSE);
}

static void test_flatten(void)
{
    static const struct { const char *json, *flat; } cases[] = {
        /* libvirt's storage node */
        { "{\"driver\":\"file\",\"filename\":\"/a,b.img\",\"aio\":\"io_uring\","
          "\"node-name\":\"libvirt-1-storage\",\"cache\":{\"direct\":true,"
          "\"no-flush\":false},\"auto-read-only\":true,\"discard\":\"unmap\"}",
          "driver=file,filename=/a,b.img,aio=io_uring,"
          "node-name=libvirt-1-storage,cache.direct=on,cache.no-flush=off,"
          "auto-read-only=on,discard=unmap" },
        { "{\"qom-type\":\"memory-backend-ram\",\"id\":\"pc.ram\","
          "\"size\":268435456}",
          "qom-type=memory-backend-ram,id=pc.ram,size=268435456" },
        { "{\"a\":{\"b\":{\"c\":-1}},\"d\":0.5,\"e\":\"\"}",
          "a.b.c=-1,d=0.5,e=" },
        { "{}", "" },
        /* Not JSON: key=value, implied key and all. */
        { "virtio-blk-pci,drive=d0", "driver=virtio-blk-pci,drive=d0" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *flat = flatten(cases[i].json);

        g_assert_cmpstr(flat, ==, cases[i].flat);
    }
}

/* An object already parsed (blockdev-add's arguments) reads the same. */
static void test_object(void)
{
    const char *json = "{\"driver\":\"raw\",\"file\":\"f0\","
                       "\"cache\":{\"direct\":true},\"size\":512}";
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;
    g_autoptr(QemuOpts) opts = NULL;
    g_autofree char *flat = flatten(json);
    GString *s = g_string_new(NULL);
    g_autofree char *from_object = NULL;

    g_assert_true(json_parser_load_from_data(parser, json, -1, &err));
    opts = qemu_opts_from_json_object(
        json_node_get_object(json_parser_get_root(parser)), &err);
    g_assert_no_error(err);
    g_assert_true(qemu_opt_foreach(opts, append_opt, s, NULL));
    from_object = g_string_free(s, FALSE);
    g_assert_cmpstr(from_object, ==,
                    "driver=raw,file=f0,cache.direct=on,size=512");
    g_assert_cmpstr(from_object, ==, flat);
}

static void test_errors(void)
{
    static const struct { const char *json, *msg; } cases[] = {
        { "{\"a\":[1]}", "Invalid parameter type for 'a', expected: a "
          "string, number or boolean" },
        { "{\"a\":{\"b\":null}}", "Invalid parameter type for 'a.b', "
          "expected: a string, number or boolean" },
        { "{\"a\" 1}", "JSON parse error at character 4, unexpected string "
          "constant \"a\", expected character `:'" },
        { "{\"a\":1} 2", "JSON parse error at character 9, unexpected number "
          "`2', expected end of file" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;

        g_assert_null(qemu_opts_from_json(cases[i].json, &err));
        g_assert_nonnull(err);
        g_assert_cmpstr(err->message, ==, cases[i].msg);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/keyval-json/flatten", test_flatten);
    g_test_add_func("/keyval-json/object", test_object);
    g_test_add_func("/keyval-json/errors", test_errors);
    return g_test_run();
}
