/*
 * Error numbers for guest code, with Linux's values so that results from the
 * host (an io_uring CQE's -errno) and from guest drivers read the same.
 * Functions return them negated.
 */
#ifndef GUEST_ERRNO_H
#define GUEST_ERRNO_H

#define EIO             5
#define E2BIG           7
#define EBADF           9
#define EACCES          13
#define EFAULT          14
#define EBUSY           16
#define ENODEV          19
#define EINVAL          22
#define EFBIG           27
#define EROFS           30
#define EPROTO          71
#define EOPNOTSUPP      95
#define ETIMEDOUT       110

/* "EIO" etc. for messages; "error N" for numbers not listed above. */
const char *guest_strerror(int error);

#endif
