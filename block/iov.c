/*
 * iovec helpers for bounce buffers and transfers that take several system
 * calls.  Offsets and lengths are 64-bit: a request may reach 4 GiB.
 */
#include <limits.h>
#include <string.h>

#include "block-internal.h"

uint64_t block_iov_size(const struct iovec *iov, int iovcnt)
{
    uint64_t bytes = 0;

    for (int i = 0; i < iovcnt; i++) {
        bytes += iov[i].iov_len;
    }
    return bytes;
}

typedef enum IovCopy { IOV_TO_BUF, IOV_FROM_BUF, IOV_MEMSET } IovCopy;

/* Walk [offset, offset + bytes) of the iovec's data piece by piece. */
static void iov_copy(const struct iovec *iov, int iovcnt, uint64_t offset,
                     char *buf, int c, uint64_t bytes, IovCopy how)
{
    for (int i = 0; i < iovcnt && bytes; i++) {
        char *base = iov[i].iov_base;
        uint64_t len;

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

void block_iov_to_buf(const struct iovec *iov, int iovcnt, uint64_t offset,
                      void *buf, uint64_t bytes)
{
    iov_copy(iov, iovcnt, offset, buf, 0, bytes, IOV_TO_BUF);
}

void block_iov_from_buf(const struct iovec *iov, int iovcnt, uint64_t offset,
                        const void *buf, uint64_t bytes)
{
    iov_copy(iov, iovcnt, offset, (char *)buf, 0, bytes, IOV_FROM_BUF);
}

void block_iov_memset(const struct iovec *iov, int iovcnt, uint64_t offset,
                      int c, uint64_t bytes)
{
    iov_copy(iov, iovcnt, offset, NULL, c, bytes, IOV_MEMSET);
}

const struct iovec *block_iov_next(const struct iovec *iov, int iovcnt,
                                   uint64_t bytes, uint64_t done,
                                   struct iovec **part, int *part_cnt)
{
    uint64_t left = BLOCK_MAX_TRANSFER;
    int n = 0;

    if (!done && iovcnt <= IOV_MAX && bytes <= BLOCK_MAX_TRANSFER) {
        *part_cnt = iovcnt;
        return iov;
    }
    if (!*part) {
        *part = g_new(struct iovec, MIN(iovcnt, IOV_MAX));
    }
    for (int i = 0; i < iovcnt && n < IOV_MAX && left; i++) {
        uint64_t len;

        if (done >= iov[i].iov_len) {
            done -= iov[i].iov_len;
            continue;
        }
        len = MIN(iov[i].iov_len - done, left);
        (*part)[n++] = (struct iovec){
            .iov_base = (char *)iov[i].iov_base + done, .iov_len = len,
        };
        left -= len;
        done = 0;
    }
    *part_cnt = n;
    return *part;
}
