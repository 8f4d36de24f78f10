/*
 * -blockdev's nodes over QMP while the VM runs.
 *
 * blockdev-add: a file node and a raw node over it (as libvirt asks for
 * them), a null-co node and a read-only file node appear in
 * query-named-block-nodes as they were asked for and work (block_resize
 * through the raw node changes the image, and the read-only one refuses);
 * each refusal is QEMU's one line and leaves no node behind.
 *
 * blockdev-del: an unused node goes, with its image's lock, and its file
 * node is again what it was without it; a node a device or another node
 * uses stays, with QEMU's words.
 *
 * query-blockstats and query-block name a -blockdev disk as QEMU does, and
 * block_resize refuses a read-only raw node as QEMU does.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "libqtest.h"
#include "libqos/blk-image.h"

#define IMAGE_SIZE      (1ULL << 20)

static JsonArray *named_nodes(QTestState *qts, JsonObject **reply)
{
    *reply = qtest_qmp(qts, "{'execute':'query-named-block-nodes'}");
    return json_node_get_array(qmp_reply_return(*reply));
}

static void assert_ok(JsonObject *reply)
{
    JsonNode *ret = qmp_reply_return(reply);

    g_assert_true(JSON_NODE_HOLDS_OBJECT(ret));
    g_assert_cmpuint(json_object_get_size(json_node_get_object(ret)), ==, 0);
}

static void assert_generic_error(JsonObject *reply, const char *desc)
{
    g_assert_cmpstr(qmp_reply_error_class(reply), ==, "GenericError");
    g_assert_cmpstr(qmp_reply_error_desc(reply), ==, desc);
}

static uint64_t image_size(BlkImage *img)
{
    struct stat st;

    g_assert_cmpint(fstat(img->fd, &st), ==, 0);
    return st.st_size;
}

/* libvirt's pair of nodes, added while the VM runs, then used. */
static void test_file_and_raw(void)
{
    BlkImage *img = blk_image_new(IMAGE_SIZE);
    g_autoptr(QTestState) qts = qtest_init("");
    g_autoptr(JsonObject) r1 = NULL, r2 = NULL, r3 = NULL, nodes_reply = NULL;
    JsonArray *nodes;
    JsonObject *file, *raw, *cache;

    r1 = qtest_qmp(qts, "{'execute':'blockdev-add','arguments':"
                   "{'driver':'file','filename':'%s','aio':'io_uring',"
                   "'node-name':'libvirt-1-storage',"
                   "'cache':{'direct':true,'no-flush':false},"
                   "'auto-read-only':true,'discard':'unmap'}}", img->path);
    assert_ok(r1);
    r2 = qtest_qmp(qts, "{'execute':'blockdev-add','arguments':"
                   "{'node-name':'libvirt-1-format','read-only':false,"
                   "'cache':{'direct':true,'no-flush':false},"
                   "'driver':'raw','file':'libvirt-1-storage'}}");
    assert_ok(r2);

    nodes = named_nodes(qts, &nodes_reply);
    g_assert_cmpuint(json_array_get_length(nodes), ==, 2);
    file = qmp_find_by(nodes, "node-name", "libvirt-1-storage");
    raw = qmp_find_by(nodes, "node-name", "libvirt-1-format");
    g_assert_nonnull(file);
    g_assert_nonnull(raw);
    g_assert_cmpstr(json_object_get_string_member(file, "drv"), ==, "file");
    g_assert_cmpstr(json_object_get_string_member(raw, "drv"), ==, "raw");
    g_assert_cmpstr(json_object_get_string_member(file, "file"), ==,
                    img->path);
    cache = json_object_get_object_member(file, "cache");
    g_assert_true(json_object_get_boolean_member(cache, "direct"));
    g_assert_false(json_object_get_boolean_member(cache, "no-flush"));
    g_assert_false(json_object_get_boolean_member(raw, "ro"));
    g_assert_cmpint(json_object_get_int_member(
        json_object_get_object_member(raw, "image"), "virtual-size"), ==,
        IMAGE_SIZE);

    /* The nodes work: the image grows through the raw node. */
    r3 = qtest_qmp(qts, "{'execute':'block_resize','arguments':"
                   "{'node-name':'libvirt-1-format','size':%llu}}",
                   2 * IMAGE_SIZE);
    assert_ok(r3);
    g_assert_cmpuint(image_size(img), ==, 2 * IMAGE_SIZE);
    qtest_quit(g_steal_pointer(&qts));
    blk_image_free(img);
}

/* A null-co node, with the size it was given; a read-only file node. */
static void test_null_co_and_read_only(void)
{
    BlkImage *img = blk_image_new(IMAGE_SIZE);
    g_autoptr(QTestState) qts = qtest_init("");
    g_autoptr(JsonObject) r1 = NULL, r2 = NULL, r3 = NULL, nodes_reply = NULL;
    JsonArray *nodes;
    JsonObject *n;

    r1 = qtest_qmp(qts, "{'execute':'blockdev-add','arguments':"
                   "{'driver':'null-co','node-name':'n0','size':%llu,"
                   "'read-zeroes':true}}", 3 * IMAGE_SIZE);
    assert_ok(r1);
    r2 = qtest_qmp(qts, "{'execute':'blockdev-add','arguments':"
                   "{'driver':'file','filename':'%s','node-name':'f0',"
                   "'aio':'threads','read-only':true,'locking':'off'}}",
                   img->path);
    assert_ok(r2);
    nodes = named_nodes(qts, &nodes_reply);
    g_assert_cmpuint(json_array_get_length(nodes), ==, 2);
    n = qmp_find_by(nodes, "node-name", "n0");
    g_assert_cmpstr(json_object_get_string_member(n, "drv"), ==, "null-co");
    g_assert_cmpstr(json_object_get_string_member(n, "file"), ==,
                    "null-co://");
    g_assert_cmpint(json_object_get_int_member(
        json_object_get_object_member(n, "image"), "virtual-size"), ==,
        3 * IMAGE_SIZE);
    g_assert_true(json_object_get_boolean_member(
                      qmp_find_by(nodes, "node-name", "f0"), "ro"));
    r3 = qtest_qmp(qts, "{'execute':'block_resize','arguments':"
                   "{'node-name':'f0','size':%llu}}", 2 * IMAGE_SIZE);
    assert_generic_error(r3, "Image is read-only");
    g_assert_cmpuint(image_size(img), ==, IMAGE_SIZE);
    qtest_quit(g_steal_pointer(&qts));
    blk_image_free(img);
}

/* Does any process hold a lock on the image (OFD locks: ours count too)? */
static bool image_locked(BlkImage *img)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

    g_assert_cmpint(fcntl(img->fd, F_OFD_GETLK, &fl), ==, 0);
    return fl.l_type != F_UNLCK;
}

static void blockdev_del_ok(QTestState *qts, const char *node)
{
    g_autoptr(JsonObject) r = qtest_qmp(qts, "{'execute':'blockdev-del',"
                                        "'arguments':{'node-name':'%s'}}",
                                        node);
    assert_ok(r);
}

/*
 * Unused nodes go: a read-only raw node leaves its file node writable
 * again, and the file node's image is closed and unlocked, its name free.
 */
static void test_del(void)
{
    BlkImage *img = blk_image_new(IMAGE_SIZE);
    g_autoptr(QTestState) qts = qtest_initf(
        "-blockdev driver=file,filename=%s,node-name=f0 "
        "-blockdev driver=raw,file=f0,node-name=r0,read-only=on,"
        "cache.no-flush=on", img->path);
    g_autoptr(JsonObject) n1 = NULL, n2 = NULL, n3 = NULL, r = NULL;
    JsonArray *nodes;
    JsonObject *f0;

    blockdev_del_ok(qts, "r0");
    nodes = named_nodes(qts, &n1);
    g_assert_cmpuint(json_array_get_length(nodes), ==, 1);
    f0 = qmp_find_by(nodes, "node-name", "f0");
    g_assert_false(json_object_get_boolean_member(f0, "ro"));
    g_assert_false(json_object_get_boolean_member(
        json_object_get_object_member(f0, "cache"), "no-flush"));
    /* A writable raw node over it is no longer "Block node is read-only". */
    r = qtest_qmp(qts, "{'execute':'blockdev-add','arguments':"
                  "{'driver':'raw','file':'f0','node-name':'r1'}}");
    assert_ok(r);
    g_clear_pointer(&r, json_object_unref);
    blockdev_del_ok(qts, "r1");

    g_assert_true(image_locked(img));
    blockdev_del_ok(qts, "f0");
    g_assert_false(image_locked(img));
    nodes = named_nodes(qts, &n2);
    g_assert_cmpuint(json_array_get_length(nodes), ==, 0);

    /* The name can be used again. */
    r = qtest_qmp(qts, "{'execute':'blockdev-add','arguments':"
                  "{'driver':'null-co','node-name':'f0'}}");
    assert_ok(r);
    nodes = named_nodes(qts, &n3);
    g_assert_cmpstr(json_object_get_string_member(
                        qmp_find_by(nodes, "node-name", "f0"), "drv"),
                    ==, "null-co");
    qtest_quit(g_steal_pointer(&qts));
    blk_image_free(img);
}

/* Nodes in use stay, with QEMU 7.2's words for each case. */
static void test_del_in_use(void)
{
    BlkImage *img = blk_image_new(IMAGE_SIZE);
    g_autoptr(QTestState) qts = qtest_initf(
        "-blockdev driver=file,filename=%s,node-name=f0 "
        "-blockdev driver=raw,file=f0,node-name=r0 "
        "-device virtio-blk-pci,drive=r0,id=vd0 "
        "-blockdev driver=null-co,node-name=n0 "
        "-device virtio-blk-pci,drive=n0,id=vd1 "
        "-drive file=null-co://,if=none,id=d0,format=raw", img->path);
    g_autoptr(JsonObject) nodes_reply = NULL;
    static const struct {
        const char *node, *desc;
    } cases[] = {
        { "r0", "Node r0 is in use" },
        { "n0", "Node n0 is in use" },
        { "f0", "Block device f0 is in use" },
        { "zz", "Failed to find node with node-name='zz'" },
        { "d0", "Failed to find node with node-name='d0'" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(JsonObject) r = qtest_qmp(qts,
            "{'execute':'blockdev-del','arguments':{'node-name':'%s'}}",
            cases[i].node);

        assert_generic_error(r, cases[i].desc);
    }
    g_assert_cmpuint(json_array_get_length(named_nodes(qts, &nodes_reply)),
                     ==, 3);
    g_assert_true(image_locked(img));
    qtest_quit(g_steal_pointer(&qts));
    blk_image_free(img);
}

/*
 * Two -blockdev disks (raw over file with a device id, null-co without),
 * an unused node and a -drive no device uses.
 */
static QTestState *start_disks(BlkImage *img)
{
    return qtest_initf(
        "-blockdev driver=file,filename=%s,node-name=f0 "
        "-blockdev driver=raw,file=f0,node-name=r0 "
        "-device virtio-blk-pci,drive=r0,id=vd0 "
        "-blockdev driver=null-co,node-name=n0 "
        "-device virtio-blk-pci,drive=n0 "
        "-blockdev driver=null-co,node-name=n1 "
        "-drive file=null-co://,if=none,id=d0,format=raw", img->path);
}

/*
 * As QEMU: a device's -blockdev disk by its top node's name and the
 * device, with an empty "device"; a -drive by its id; no entry for nodes
 * no device uses.  With query-nodes, every node by its name alone.
 */
static void test_blockstats(void)
{
    BlkImage *img = blk_image_new(IMAGE_SIZE);
    g_autoptr(QTestState) qts = start_disks(img);
    g_autoptr(JsonObject) reply = qtest_qmp(qts,
        "{'execute':'query-blockstats'}");
    g_autoptr(JsonObject) nodes_reply = qtest_qmp(qts,
        "{'execute':'query-blockstats','arguments':{'query-nodes':true}}");
    JsonArray *list = json_node_get_array(qmp_reply_return(reply));
    JsonArray *nodes = json_node_get_array(qmp_reply_return(nodes_reply));
    static const char *const node_names[] = { "f0", "r0", "n0", "n1" };
    JsonObject *b;

    g_assert_cmpuint(json_array_get_length(list), ==, 3);
    b = qmp_find_by(list, "node-name", "r0");
    g_assert_nonnull(b);
    g_assert_cmpstr(json_object_get_string_member(b, "device"), ==, "");
    g_assert_cmpstr(json_object_get_string_member(b, "qdev"), ==,
                    "/machine/peripheral/vd0/virtio-backend");
    b = qmp_find_by(list, "node-name", "n0");
    g_assert_nonnull(b);
    g_assert_cmpstr(json_object_get_string_member(b, "device"), ==, "");
    b = qmp_find_by(list, "device", "d0");
    g_assert_nonnull(b);
    g_assert_false(json_object_has_member(b, "node-name"));
    g_assert_null(qmp_find_by(list, "node-name", "f0"));
    g_assert_null(qmp_find_by(list, "node-name", "n1"));

    g_assert_cmpuint(json_array_get_length(nodes), ==,
                     G_N_ELEMENTS(node_names));
    for (size_t i = 0; i < G_N_ELEMENTS(node_names); i++) {
        b = json_array_get_object_element(nodes, i);
        g_assert_cmpstr(json_object_get_string_member(b, "node-name"), ==,
                        node_names[i]);
        g_assert_false(json_object_has_member(b, "device"));
        g_assert_false(json_object_has_member(b, "qdev"));
        g_assert_true(json_object_has_member(b, "stats"));
    }
    qtest_quit(g_steal_pointer(&qts));
    blk_image_free(img);
}

/* query-block names the disks as query-blockstats does, as QEMU. */
static void test_query_block(void)
{
    BlkImage *img = blk_image_new(IMAGE_SIZE);
    g_autoptr(QTestState) qts = start_disks(img);
    g_autoptr(JsonObject) reply = qtest_qmp(qts, "{'execute':'query-block'}");
    JsonArray *list = json_node_get_array(qmp_reply_return(reply));
    JsonObject *b, *ins;

    g_assert_cmpuint(json_array_get_length(list), ==, 3);
    b = json_array_get_object_element(list, 0);
    g_assert_cmpstr(json_object_get_string_member(b, "device"), ==, "");
    g_assert_cmpstr(json_object_get_string_member(b, "qdev"), ==,
                    "/machine/peripheral/vd0/virtio-backend");
    ins = json_object_get_object_member(b, "inserted");
    g_assert_cmpstr(json_object_get_string_member(ins, "node-name"), ==,
                    "r0");
    g_assert_cmpstr(json_object_get_string_member(ins, "drv"), ==, "raw");
    g_assert_cmpstr(json_object_get_string_member(ins, "file"), ==,
                    img->path);
    b = json_array_get_object_element(list, 1);
    g_assert_cmpstr(json_object_get_string_member(b, "device"), ==, "");
    ins = json_object_get_object_member(b, "inserted");
    g_assert_cmpstr(json_object_get_string_member(ins, "node-name"), ==,
                    "n0");
    g_assert_cmpstr(json_object_get_string_member(ins, "drv"), ==,
                    "null-co");
    b = json_array_get_object_element(list, 2);
    g_assert_cmpstr(json_object_get_string_member(b, "device"), ==, "d0");
    g_assert_false(json_object_has_member(
        json_object_get_object_member(b, "inserted"), "node-name"));
    qtest_quit(g_steal_pointer(&qts));
    blk_image_free(img);
}

/*
 * block_resize goes by the node it names, as in QEMU: not through a
 * read-only raw node, but through the writable file node below it.
 */
static void test_resize_read_only_raw(void)
{
    BlkImage *img = blk_image_new(IMAGE_SIZE);
    g_autoptr(QTestState) qts = qtest_initf(
        "-blockdev driver=file,filename=%s,node-name=f0 "
        "-blockdev driver=raw,file=f0,node-name=r0,read-only=on", img->path);
    g_autoptr(JsonObject) r1 = NULL, r2 = NULL;

    r1 = qtest_qmp(qts, "{'execute':'block_resize','arguments':"
                   "{'node-name':'r0','size':%llu}}", 2 * IMAGE_SIZE);
    assert_generic_error(r1, "Image is read-only");
    g_assert_cmpuint(image_size(img), ==, IMAGE_SIZE);
    r2 = qtest_qmp(qts, "{'execute':'block_resize','arguments':"
                   "{'node-name':'f0','size':%llu}}", 2 * IMAGE_SIZE);
    assert_ok(r2);
    g_assert_cmpuint(image_size(img), ==, 2 * IMAGE_SIZE);
    qtest_quit(g_steal_pointer(&qts));
    blk_image_free(img);
}

/* Refusals: QEMU's words, and no node made. */
static void test_errors(void)
{
    BlkImage *img = blk_image_new(IMAGE_SIZE);
    g_autoptr(QTestState) qts = NULL;
    g_autoptr(JsonObject) nodes_reply = NULL;
    JsonArray *nodes;
    const struct {
        const char *args, *desc;
    } cases[] = {
        /* a node of that name exists */
        { "{'driver':'null-co','node-name':'f0'}",
          "Duplicate nodes with node-name='f0'" },
        { "{'driver':'file','filename':'%s','node-name':'f0'}",
          "Duplicate nodes with node-name='f0'" },
        /* a -drive of that name exists */
        { "{'driver':'null-co','node-name':'d0'}",
          "node-name=d0 is conflicting with a device id" },
        { "{'driver':'file','filename':'%s','node-name':'f1',"
          "'aio':'posix'}",
          "Parameter 'aio' does not accept value 'posix'" },
        { "{'driver':'file','filename':'/nonexistent','node-name':'f1'}",
          "Could not open '/nonexistent': No such file or directory" },
        { "{'driver':'null-co'}",
          "'node-name' must be specified for the root node" },
        { "{'driver':'null-co','node-name':'1a'}",
          "Invalid node-name: '1a'" },
        { "{'driver':'raw','node-name':'r1','file':'zz'}",
          "Cannot find device='zz' nor node-name='zz'" },
        /* f0 already has a raw node over it */
        { "{'driver':'raw','node-name':'r1','file':'f0'}",
          "Node 'f0' is already the file of node 'r0'" },
        /* the device uses n0 */
        { "{'driver':'raw','node-name':'r1','file':'n0'}",
          "Node n0 is in use" },
    };

    qts = qtest_initf("-blockdev driver=file,filename=%s,node-name=f0 "
                      "-blockdev driver=raw,file=f0,node-name=r0 "
                      "-drive file=null-co://,if=none,id=d0,format=raw "
                      "-blockdev driver=null-co,node-name=n0 "
                      "-device virtio-blk-pci,drive=n0", img->path);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *args = g_strdup_printf(cases[i].args, img->path);
        g_autoptr(JsonObject) r = qtest_qmp(qts,
            "{'execute':'blockdev-add','arguments':%s}", args);

        assert_generic_error(r, cases[i].desc);
    }
    nodes = named_nodes(qts, &nodes_reply);
    g_assert_cmpuint(json_array_get_length(nodes), ==, 3);
    g_assert_nonnull(qmp_find_by(nodes, "node-name", "f0"));
    g_assert_nonnull(qmp_find_by(nodes, "node-name", "r0"));
    g_assert_nonnull(qmp_find_by(nodes, "node-name", "n0"));
    qtest_quit(g_steal_pointer(&qts));
    blk_image_free(img);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/blockdev-add/file-and-raw", test_file_and_raw);
    g_test_add_func("/blockdev-add/null-co-and-read-only",
                    test_null_co_and_read_only);
    g_test_add_func("/blockdev-add/errors", test_errors);
    g_test_add_func("/blockdev-del/unused", test_del);
    g_test_add_func("/blockdev-del/in-use", test_del_in_use);
    g_test_add_func("/blockdev/query-blockstats", test_blockstats);
    g_test_add_func("/blockdev/query-block", test_query_block);
    g_test_add_func("/blockdev/resize-read-only-raw",
                    test_resize_read_only_raw);
    return g_test_run();
}
