/*
 * iovec helpers for bounce buffers and short transfers.
 */
#include <string.h>

#include "block-internal.h"

size_t block_iov_size(const struct iovec *iov, int iovcnt)
{
    size_t bytes = 0;

    for (int i = 0; i < iovcnt; i++) {
        bytes += iov[i].iov_len;
    }
    return bytes;
}

typedef enum IovCopy { IOV_TO_BUF, IOV_FROM_BUF, IOV_MEMSET } IovCopy;

/* Walk [offset, offset + bytes) of the iovec's data piece by piece. */
static void iov_copy(const struct iovec *iov, int iovcnt, size_t offset,
                     char *buf, int c, size_t bytes, IovCopy how)
{
    for (int i = 0; i < iovcnt && bytes; i++) {
        char *base = iov[i].iov_base;
        size_t len;

        if (offset >= iov[i].iov_len) {
            offset -= iov[i].iov_len;
            continue;
        }
        len = MIN(iov[i].iov_len - offset, bytes);
        switch (how) {
        case IOV_TO_BUF:
            memcpy(buf, base + offset, len);
            buf += len;
            break;
        case IOV_FROM_BUF:
            memcpy(base + offset, buf, len);
            buf += len;
            break;
        case IOV_MEMSET:
            memset(base + offset, c, len);
            break;
        }
        bytes -= len;
        offset = 0;
    }
}

void block_iov_to_buf(const struct iovec *iov, int iovcnt, size_t offset,
                      void *buf, size_t bytes)
{
    iov_copy(iov, iovcnt, offset, buf, 0, bytes, IOV_TO_BUF);
}

void block_iov_from_buf(const struct iovec *iov, int iovcnt, size_t offset,
                        const void *buf, size_t bytes)
{
    iov_copy(iov, iovcnt, offset, (char *)buf, 0, bytes, IOV_FROM_BUF);
}

void block_iov_memset(const struct iovec *iov, int iovcnt, size_t offset,
                      int c, size_t bytes)
{
    iov_copy(iov, iovcnt, offset, NULL, c, bytes, IOV_MEMSET);
}

int block_iov_skip(const struct iovec *iov, int iovcnt, size_t skip,
                   struct iovec *out)
{
    int n = 0;

    for (int i = 0; i < iovcnt; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        out[n].iov_base = (char *)iov[i].iov_base + skip;
        out[n].iov_len = iov[i].iov_len - skip;
        skip = 0;
        n++;
    }
    return n;
}
