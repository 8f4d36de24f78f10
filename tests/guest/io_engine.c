/* The table of gfio's I/O engines. */
#include "io_engine.h"

#include "guest_errno.h"
#include "libc.h"

int io_engine_virtio_blk_open(const struct io_engine_params *params, struct io_engine *e);
int io_engine_uring_open(const struct io_engine_params *params, struct io_engine *e);

static const struct {
    const char *name;
    int (*open)(const struct io_engine_params *params, struct io_engine *e);
} engines[] = {
    { "virtio-blk", io_engine_virtio_blk_open },
    { "uring", io_engine_uring_open },
};

int io_engine_open(const char *name, const struct io_engine_params *params,
                   struct io_engine *e)
{
    for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
        if (!strcmp(name, engines[i].name)) {
            *e = (struct io_engine){ .name = engines[i].name };
            return engines[i].open(params, e);
        }
    }
    return -EINVAL;
}

const char *io_engine_names(void)
{
    static char names[64];
    size_t len = 0;

    for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]) && len < sizeof(names);
         i++) {
        len += snprintf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "",
                        engines[i].name);
    }
    return names;
}
