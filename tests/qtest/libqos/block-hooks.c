/*
 * The VMM's test-only qtest commands for the block layer
 * (libqos/block-hooks.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "block-hooks.h"

GHashTable *qblock_query(QTestState *qts, const char *fmt, ...)
{
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                          g_free);
    g_autofree char *cmd = NULL;
    g_autofree char *reply = NULL;
    g_auto(GStrv) words = NULL;
    va_list ap;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    reply = qtest_raw_command(qts, "%s", cmd);
    if (strcmp(reply, "OK") && !g_str_has_prefix(reply, "OK ")) {
        g_error("%s: %s", cmd, reply);
    }
    words = g_strsplit(reply, " ", -1);
    for (char **w = words + 1; *w; w++) {
        char *eq = strchr(*w, '=');

        g_assert_nonnull(eq);
        g_hash_table_insert(h, g_strndup(*w, eq - *w), g_strdup(eq + 1));
    }
    return h;
}

int64_t qblock_get(GHashTable *h, const char *key)
{
    const char *value = g_hash_table_lookup(h, key);

    if (!value) {
        g_error("no %s in the reply", key);
    }
    return g_ascii_strtoll(value, NULL, 10);
}

int64_t qblock_stat(QTestState *qts, const char *drive, const char *key)
{
    g_autoptr(GHashTable) h = qblock_query(qts, "x-blockstats %s", drive);

    return qblock_get(h, key);
}

char *qblock_resize(QTestState *qts, const char *drive, uint64_t size)
{
    g_autofree char *reply = qtest_raw_command(qts, "x-block-resize %s %"
                                               PRIu64, drive, size);

    if (!strcmp(reply, "OK")) {
        return NULL;
    }
    g_assert_true(g_str_has_prefix(reply, "FAIL "));
    return g_strdup(reply + 5);
}
