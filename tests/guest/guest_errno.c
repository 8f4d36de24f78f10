/* Names of the error numbers in guest_errno.h. */
#include "guest_errno.h"

#include "libc.h"

const char *guest_strerror(int error)
{
    static char unknown[24];

    switch (error < 0 ? -error : error) {
    case EIO:           return "EIO";
    case E2BIG:         return "E2BIG";
    case EBADF:         return "EBADF";
    case EACCES:        return "EACCES";
    case EFAULT:        return "EFAULT";
    case EBUSY:         return "EBUSY";
    case ENODEV:        return "ENODEV";
    case EINVAL:        return "EINVAL";
    case EFBIG:         return "EFBIG";
    case EROFS:         return "EROFS";
    case EPROTO:        return "EPROTO";
    case EOPNOTSUPP:    return "EOPNOTSUPP";
    case ETIMEDOUT:     return "ETIMEDOUT";
    }
    snprintf(unknown, sizeof(unknown), "error %d", error);
    return unknown;
}
