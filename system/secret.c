/*
 * -object secret.  QEMU's secrets hold keys and passwords for the objects
 * that name them (encrypted images, network block devices); nothing in this
 * VMM takes one, so a secret is checked as QEMU checks it and its value is
 * not kept: only its id, which no other object may take.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "qemu/error-report.h"
#include "sysemu/iothread.h"
#include "sysemu/secret.h"

static GHashTable *secret_ids;

static bool is_base64(const char *s)
{
    size_t len = strlen(s), pad = 0;

    if (len % 4) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '=') {
            pad++;
        } else if (pad || !(g_ascii_isalnum(s[i]) || s[i] == '+' ||
                            s[i] == '/')) {
            return false;
        }
    }
    return pad <= 2;
}

/* The file's contents, NUL-terminated, or NULL with errno set. */
static GByteArray *read_file(const char *path)
{
    GByteArray *buf;
    char chunk[4096];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        return NULL;
    }
    buf = g_byte_array_new();
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            int err = errno;

            close(fd);
            g_byte_array_free(buf, true);
            errno = err;
            return NULL;
        }
        g_byte_array_append(buf, (guint8 *)chunk, n);
    }
    close(fd);
    memset(chunk, 0, sizeof(chunk));
    g_byte_array_append(buf, (guint8 *)"", 1);
    return buf;
}

static bool check_value(const char *data, const char *file,
                        const char *format, GError **errp)
{
    GByteArray *contents = NULL;
    bool ok = true;

    if (file) {
        contents = read_file(file);
        if (!contents) {
            error_setg_errno(errp, errno, "Unable to read %s", file);
            return false;
        }
        data = (const char *)contents->data;
    }
    if (!strcmp(format, "base64") && !is_base64(data)) {
        error_setg(errp, "Parameter 'data' is not valid base64");
        ok = false;
    }
    if (contents) {
        /* A key read only to be checked does not stay in freed memory. */
        memset(contents->data, 0, contents->len);
        g_byte_array_free(contents, true);
    }
    return ok;
}

bool secret_create(QemuOpts *opts, GError **errp)
{
    const char *id = qemu_opt_get(opts, "id");
    const char *data = qemu_opt_get(opts, "data");
    const char *file = qemu_opt_get(opts, "file");
    const char *format = qemu_opt_get(opts, "format");

    if (!id) {
        error_setg(errp, "Parameter 'id' is missing");
        return false;
    }
    if ((secret_ids && g_hash_table_contains(secret_ids, id)) ||
        iothread_by_id(id)) {
        error_setg(errp, "Duplicate ID '%s' for object", id);
        return false;
    }
    if (!format) {
        format = "raw";
    } else if (strcmp(format, "raw") && strcmp(format, "base64")) {
        error_setg(errp, "Parameter 'format' does not accept value '%s'",
                   format);
        return false;
    }
    if (!data && !file) {
        error_setg(errp, "Either 'data' or 'file' must be given");
        return false;
    }
    if (data && file) {
        error_setg(errp, "'data' and 'file' cannot both be given");
        return false;
    }
    if (!qemu_opts_check_unused(opts, errp) ||
        !check_value(data, file, format, errp)) {
        return false;
    }
    if (!secret_ids) {
        secret_ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           NULL);
    }
    g_hash_table_add(secret_ids, g_strdup(id));
    return true;
}
