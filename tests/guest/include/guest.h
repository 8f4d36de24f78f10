/* Everything a guest program uses, in one include. */
#ifndef GUEST_H
#define GUEST_H

#include "args.h"
#include "console.h"
#include "exit.h"
#include "libc.h"
#include "memory.h"
#include "paging.h"
#include "smp.h"
#include "timing.h"
#include "x86.h"

#endif
