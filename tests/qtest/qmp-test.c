/*
 * The QMP protocol: greeting, capabilities negotiation, replies and ids,
 * errors, and clients that misbehave: garbage, a 10 MB line, half a JSON
 * object, a client that goes away mid-command.  The VM runs on through all
 * of it.
 */
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libqtest.h"

static void assert_error(JsonObject *reply, const char *klass,
                         const char *desc)
{
    g_assert_cmpstr(qmp_reply_error_class(reply), ==, klass);
    if (desc) {
        g_assert_cmpstr(qmp_reply_error_desc(reply), ==, desc);
    }
}

/*
 * The VM still answers over QMP (connecting if no client is) and over
 * qtest.
 */
static void assert_alive(QTestState *qts)
{
    g_autoptr(JsonObject) r = qtest_qmp(qts, "{'execute':'query-status'}");
    JsonObject *ret = json_node_get_object(qmp_reply_return(r));

    g_assert_cmpstr(json_object_get_string_member(ret, "status"), ==,
                    "running");
    /* PM1a control reads back what was written: the machine works. */
    qtest_outw(qts, 0x604, 0x0001);
    g_assert_cmphex(qtest_inw(qts, 0x604), ==, 0x0001);
}

static void test_greeting_and_negotiation(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    g_autoptr(QmpTestClient) c = qmp_client_connect(qtest_qmp_socket(qts),
                                                    true);
    JsonObject *qmp = json_object_get_object_member(qmp_client_greeting(c),
                                                    "QMP");
    JsonObject *version = json_object_get_object_member(qmp, "version");
    g_autoptr(JsonObject) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL;

    g_assert_cmpint(json_object_get_int_member(
        json_object_get_object_member(version, "qemu"), "major"), ==, 7);
    g_assert(g_str_has_prefix(json_object_get_string_member(version,
                                                            "package"),
                              "qemu-uring "));
    g_assert_cmpuint(json_array_get_length(
        json_object_get_array_member(qmp, "capabilities")), ==, 0);

    /* Before negotiation only qmp_capabilities works. */
    r1 = qmp_client_cmd(c, "{'execute':'query-status','id':7}");
    assert_error(r1, "CommandNotFound",
                 "Expecting capabilities negotiation with "
                 "'qmp_capabilities'");
    g_assert_cmpint(json_object_get_int_member(r1, "id"), ==, 7);
    r2 = qmp_client_cmd(c, "{'execute':'qmp_capabilities',"
                        "'arguments':{'enable':['oob']}}");
    assert_error(r2, "GenericError", "Capability 'oob' not available");
    r3 = qmp_client_cmd(c, "{'execute':'qmp_capabilities','id':'a'}");
    qmp_reply_return(r3);
    g_assert_cmpstr(json_object_get_string_member(r3, "id"), ==, "a");
    r4 = qmp_client_cmd(c, "{'execute':'qmp_capabilities'}");
    assert_error(r4, "CommandNotFound",
                 "Capabilities negotiation is already complete, command "
                 "ignored");
}

static void test_errors(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    QmpTestClient *c = qtest_qmp_client(qts);
    static const struct {
        const char *cmd, *klass, *desc;
    } cases[] = {
        { "{'execute':'no-such-command'}", "CommandNotFound",
          "The command no-such-command has not been found" },
        { "{'execute':'qom-get','arguments':{'path':'/machine'}}",
          "GenericError", "Parameter 'property' is missing" },
        { "{'execute':'query-status','arguments':{'x':1}}",
          "GenericError", "Parameter 'x' is unexpected" },
        { "{'execute':'qom-list','arguments':{'path':1}}",
          "GenericError", "Invalid parameter type for 'path', expected: "
          "string" },
        { "{'execute':'query-status','arguments':[]}",
          "GenericError", "QMP input member 'arguments' must be an object" },
        { "{'execute':1}", "GenericError",
          "QMP input member 'execute' must be a string" },
        { "{'arguments':{}}", "GenericError",
          "QMP input lacks member 'execute'" },
        { "{'execute':'stop','foo':1}", "GenericError",
          "QMP input member 'foo' is unexpected" },
        { "[1,2]", "GenericError", "QMP input must be a JSON object" },
        { "{'execute':'qom-list','arguments':{'path':'/nowhere'}}",
          "DeviceNotFound", "Device '/nowhere' not found" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(JsonObject) r = qmp_client_cmd(c, "%s", cases[i].cmd);
        assert_error(r, cases[i].klass, cases[i].desc);
    }
    {
        /* A syntax error is reported, and the stream goes on. */
        g_autoptr(JsonObject) r = qmp_client_cmd(c, "{'execute' 'stop'}");
        g_assert(g_str_has_prefix(qmp_reply_error_desc(r),
                                  "JSON parse error"));
    }
    assert_alive(qts);
}

/* Ids of every JSON type come back as they were sent. */
static void test_ids(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    QmpTestClient *c = qtest_qmp_client(qts);
    static const char *const ids[] = {
        "1", "\"x\"", "{\"a\":[1,2,{\"b\":null}]}", "[true,false]", "2.5",
    };

    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_autoptr(JsonObject) r = qmp_client_cmd(c, "{'execute':'query-name',"
                                                 "'id':%s}", ids[i]);
        g_autoptr(JsonNode) sent = json_from_string(ids[i], NULL);
        qmp_reply_return(r);
        g_assert(json_node_equal(json_object_get_member(r, "id"), sent));
    }
}

/* Several commands in one write, answered in order. */
static void test_pipelined(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    QmpTestClient *c = qtest_qmp_client(qts);
    GString *batch = g_string_new(NULL);

    for (int i = 0; i < 40; i++) {
        g_string_append_printf(batch, "{\"execute\":\"query-kvm\",\"id\":%d}",
                               i);
    }
    qmp_client_send_raw(c, batch->str, batch->len);
    g_string_free(batch, TRUE);
    for (int i = 0; i < 40; i++) {
        g_autoptr(JsonObject) r = qmp_client_receive(c);
        g_assert(r);
        qmp_reply_return(r);
        g_assert_cmpint(json_object_get_int_member(r, "id"), ==, i);
    }
}

static void test_huge_line(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    QmpTestClient *c = qtest_qmp_client(qts);
    size_t size = 10 << 20;
    char *big = g_malloc(size);
    g_autoptr(JsonObject) r = NULL, r2 = NULL;

    /* A 10 MB string inside an object, without a newline. */
    memset(big, 'a', size);
    qmp_client_send_raw(c, "{\"execute\":\"", 12);
    qmp_client_send_raw(c, big, size);
    qmp_client_send_raw(c, "\"}", 2);
    g_free(big);
    r = qmp_client_receive(c);
    g_assert(r);
    g_assert(g_str_has_prefix(qmp_reply_error_desc(r),
                              "JSON message too large"));
    r2 = qmp_client_cmd(c, "{'execute':'query-status'}");
    qmp_reply_return(r2);
    /* Deep nesting is refused the same way. */
    {
        GString *deep = g_string_new(NULL);
        g_autoptr(JsonObject) r3 = NULL;

        for (int i = 0; i < 2000; i++) {
            g_string_append_c(deep, '[');
        }
        for (int i = 0; i < 2000; i++) {
            g_string_append_c(deep, ']');
        }
        qmp_client_send_raw(c, deep->str, deep->len);
        g_string_free(deep, TRUE);
        r3 = qmp_client_receive(c);
        g_assert(g_str_has_prefix(qmp_reply_error_desc(r3),
                                  "JSON message too large or too deeply"));
    }
    assert_alive(qts);
}

/* Half an object, then the client goes; garbage bytes; the VM runs on. */
static void test_bad_clients(void)
{
    g_autoptr(QTestState) qts = qtest_init("");

    for (int i = 0; i < 3; i++) {
        QmpTestClient *c = qmp_client_connect(qtest_qmp_socket(qts), false);
        qmp_client_send_raw(c, "{\"execute\": \"query-st", 21);
        qmp_client_close(c);
    }
    {
        QmpTestClient *c = qmp_client_connect(qtest_qmp_socket(qts), false);
        static const unsigned char junk[] = { 0xff, 0x00, 0x7b, 0x22, 0xfe,
                                              '}', '}', ']', 0x01 };
        qmp_client_send_raw(c, junk, sizeof(junk));
        qmp_client_close(c);
    }
    {
        /* A client that sends a command and dies before the reply. */
        QmpTestClient *c = qmp_client_connect(qtest_qmp_socket(qts), false);
        const char *cmd = "{\"execute\":\"query-qmp-schema\"}";
        qmp_client_send_raw(c, cmd, strlen(cmd));
        shutdown(qmp_client_fd(c), SHUT_RDWR);
        qmp_client_close(c);
    }
    assert_alive(qts);
}

/*
 * A client that sends commands and never reads its replies: the VMM keeps
 * reading, queues the replies up to its limit and then drops the client.
 * Meanwhile the machine answers qtest at once.
 */
static void test_client_not_reading(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    QmpTestClient *c = qmp_client_connect(qtest_qmp_socket(qts), false);
    const char *cmd = "{\"execute\":\"query-qmp-schema\"}";
    int fd = qmp_client_fd(c);
    bool dropped = false;

    /* Each reply is over 10 KB: 4000 of them exceed 16 MiB. */
    for (int i = 0; i < 4000 && !dropped; i++) {
        dropped = send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) < 0;
        if (i % 200 == 0) {
            g_assert_cmphex(qtest_inw(qts, 0x604), ==, 0);
        }
    }
    if (!dropped) {
        /* The last requests may still be queued: wait for the drop. */
        char buf[4096];
        struct timeval tv = { .tv_sec = 30 };

        shutdown(fd, SHUT_WR);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        /* Read until the VMM closes: far less than it had queued. */
        size_t total = 0;
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0) {
            total += n;
        }
        g_assert_cmpint(n, ==, 0);
        g_assert_cmpuint(total, <=, 17u << 20);
    }
    qmp_client_close(c);
    assert_alive(qts);
}

static void test_several_monitors(void)
{
    g_autofree char *dir = g_dir_make_tmp("qmp-test-XXXXXX", NULL);
    g_autofree char *p1 = g_build_filename(dir, "m1", NULL);
    g_autofree char *p2 = g_build_filename(dir, "m2", NULL);
    g_autoptr(QTestState) qts = qtest_initf(
        "-qmp unix:%s,server=on,wait=off -qmp unix:%s,server,nowait", p1, p2);
    g_autoptr(QmpTestClient) a = qmp_client_connect(p1, false);
    g_autoptr(QmpTestClient) b = qmp_client_connect(p2, false);
    g_autoptr(JsonObject) r = NULL, ea = NULL, eb = NULL, r2 = NULL;

    r = qmp_client_cmd(a, "{'execute':'stop'}");
    qmp_reply_return(r);
    /* The event reaches every client in command mode. */
    ea = qmp_client_event_wait(a, "STOP");
    eb = qmp_client_event_wait(b, "STOP");
    g_assert(json_object_has_member(json_object_get_object_member(
        eb, "timestamp"), "microseconds"));
    r2 = qmp_client_cmd(b, "{'execute':'query-status'}");
    g_assert_cmpstr(json_object_get_string_member(
        json_node_get_object(qmp_reply_return(r2)), "status"), ==, "paused");
    qtest_quit(g_steal_pointer(&qts));
    /* The VMM removed its sockets. */
    g_assert(!g_file_test(p1, G_FILE_TEST_EXISTS));
    g_assert(!g_file_test(p2, G_FILE_TEST_EXISTS));
    rmdir(dir);
}

/* -chardev socket with -mon; query-chardev lists it, in use. */
static void test_mon_chardev(void)
{
    g_autofree char *dir = g_dir_make_tmp("qmp-test-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "mon", NULL);
    g_autoptr(QTestState) qts = qtest_initf(
        "-chardev socket,id=mon0,path=%s,server=on,wait=off "
        "-mon chardev=mon0,id=monitor,mode=control -chardev null,id=n0",
        path);
    g_autoptr(QmpTestClient) c = qmp_client_connect(path, false);
    g_autoptr(JsonObject) r = qmp_client_cmd(c, "{'execute':'query-chardev'}");
    JsonArray *list = json_node_get_array(qmp_reply_return(r));
    g_autofree char *filename = g_strdup_printf("unix:%s,server=on", path);
    bool mon0 = false, n0 = false;

    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *o = json_array_get_object_element(list, i);
        const char *label = json_object_get_string_member(o, "label");

        if (!strcmp(label, "mon0")) {
            g_assert_cmpstr(json_object_get_string_member(o, "filename"), ==,
                            filename);
            g_assert(json_object_get_boolean_member(o, "frontend-open"));
            mon0 = true;
        } else if (!strcmp(label, "n0")) {
            g_assert(!json_object_get_boolean_member(o, "frontend-open"));
            n0 = true;
        }
    }
    g_assert(mon0 && n0);
    qmp_client_close(g_steal_pointer(&c));
    qtest_quit(g_steal_pointer(&qts));
    g_assert(!g_file_test(path, G_FILE_TEST_EXISTS));
    rmdir(dir);
}

static void test_monitor_option_errors(void)
{
    static const struct {
        const char *args, *err;
    } cases[] = {
        { "-mon chardev=nope,mode=control",
          "-mon chardev=nope,mode=control: chardev \"nope\" not found" },
        { "-chardev null,id=n -mon chardev=n,mode=readline",
          "-mon chardev=n,mode=readline: only QMP monitors (mode=control) "
          "are supported, not the human monitor (mode=readline)" },
        { "-chardev null,id=n -mon chardev=n,mode=control",
          "-mon chardev=n,mode=control: chardev 'n' is not a listening "
          "socket (server=on,wait=off)" },
        { "-qmp tcp:localhost:4444",
          "-qmp tcp:localhost:4444: 'tcp:localhost:4444' is not a supported "
          "QMP back-end (unix:PATH,server=on,wait=off or stdio)" },
        { "-qmp unix:/tmp/x.sock",
          "-qmp unix:/tmp/x.sock: a QMP socket must be a server (server=on)" },
        { "-nographic -qmp stdio",
          "-serial stdio: cannot use stdio by multiple character devices" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *args = g_strdup_printf("-accel qtest -display none "
                                                "%s", cases[i].args);
        g_autofree char *err = NULL;
        g_autofree char *expected = g_strdup_printf("qemu-system-x86_64: "
                                                    "%s\n", cases[i].err);

        g_assert_cmpint(qtest_run_vmm(NULL, args, &err), ==, 1);
        g_assert_cmpstr(err, ==, expected);
    }
}

/* A second client waits until the first leaves, as with QEMU. */
static void test_one_client_at_a_time(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    QmpTestClient *a = qmp_client_connect(qtest_qmp_socket(qts), false);
    QmpTestClient *b;
    g_autoptr(JsonObject) r = NULL;

    qmp_client_close(a);
    b = qmp_client_connect(qtest_qmp_socket(qts), false);
    r = qmp_client_cmd(b, "{'execute':'query-status'}");
    qmp_reply_return(r);
    qmp_client_close(b);
}

/* Every command in query-commands is in the schema, and back. */
static void test_schema_matches_commands(void)
{
    g_autoptr(QTestState) qts = qtest_init("");
    g_autoptr(JsonObject) cmds = qtest_qmp(qts, "{'execute':'query-commands'}");
    g_autoptr(JsonObject) schema = qtest_qmp(qts,
                                             "{'execute':'query-qmp-schema'}");
    JsonArray *c = json_node_get_array(qmp_reply_return(cmds));
    JsonArray *s = json_node_get_array(qmp_reply_return(schema));
    g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) types = g_hash_table_new(g_str_hash, g_str_equal);
    guint ncommands = 0;

    for (guint i = 0; i < json_array_get_length(c); i++) {
        g_hash_table_add(names, (gpointer)json_object_get_string_member(
            json_array_get_object_element(c, i), "name"));
    }
    g_assert(g_hash_table_contains(names, "qmp_capabilities"));
    g_assert(g_hash_table_contains(names, "query-qmp-schema"));
    for (guint i = 0; i < json_array_get_length(s); i++) {
        JsonObject *e = json_array_get_object_element(s, i);
        g_hash_table_add(types, (gpointer)json_object_get_string_member(
            e, "name"));
    }
    for (guint i = 0; i < json_array_get_length(s); i++) {
        JsonObject *e = json_array_get_object_element(s, i);
        const char *meta = json_object_get_string_member(e, "meta-type");

        if (!strcmp(meta, "command")) {
            ncommands++;
            g_assert(g_hash_table_contains(names,
                json_object_get_string_member(e, "name")));
            /* Every type referred to is there too. */
            g_assert(g_hash_table_contains(types,
                json_object_get_string_member(e, "arg-type")));
            g_assert(g_hash_table_contains(types,
                json_object_get_string_member(e, "ret-type")));
        }
    }
    g_assert_cmpuint(ncommands, ==, json_array_get_length(c));
}

/*
 * Every query without required arguments answers: the VMM checks each
 * reply against the schema and reports a mismatch as an error.  The ones
 * that need arguments or report a missing feature as an error are
 * qmp-probe-test's.
 */
static bool query_answers_without_arguments(const char *name)
{
    static const char *const others[] = {
        "query-cpu-model-expansion", "query-sev-capabilities",
        "query-sgx-capabilities",
    };

    for (guint i = 0; i < G_N_ELEMENTS(others); i++) {
        if (!strcmp(name, others[i])) {
            return false;
        }
    }
    return g_str_has_prefix(name, "query-");
}

static void test_every_query_answers(void)
{
    g_autoptr(QTestState) qts = qtest_init(
        "-object iothread,id=io0 -smp 2");
    g_autoptr(JsonObject) cmds = qtest_qmp(qts, "{'execute':'query-commands'}");
    JsonArray *c = json_node_get_array(qmp_reply_return(cmds));

    for (guint i = 0; i < json_array_get_length(c); i++) {
        const char *name = json_object_get_string_member(
            json_array_get_object_element(c, i), "name");
        g_autoptr(JsonObject) r = NULL;

        if (!query_answers_without_arguments(name)) {
            continue;
        }
        r = qtest_qmp(qts, "{'execute':'%s'}", name);
        qmp_reply_return(r);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_test_add_func("/qmp/greeting-and-negotiation",
                    test_greeting_and_negotiation);
    g_test_add_func("/qmp/errors", test_errors);
    g_test_add_func("/qmp/ids", test_ids);
    g_test_add_func("/qmp/pipelined", test_pipelined);
    g_test_add_func("/qmp/huge-line", test_huge_line);
    g_test_add_func("/qmp/bad-clients", test_bad_clients);
    g_test_add_func("/qmp/client-not-reading", test_client_not_reading);
    g_test_add_func("/qmp/several-monitors", test_several_monitors);
    g_test_add_func("/qmp/one-client-at-a-time", test_one_client_at_a_time);
    g_test_add_func("/qmp/mon-chardev", test_mon_chardev);
    g_test_add_func("/qmp/monitor-option-errors",
                    test_monitor_option_errors);
    g_test_add_func("/qmp/schema-matches-commands",
                    test_schema_matches_commands);
    g_test_add_func("/qmp/every-query-answers", test_every_query_answers);
    return g_test_run();
}
