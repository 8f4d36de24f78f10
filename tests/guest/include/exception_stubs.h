/*
 * Layout of the exception entry stubs (exception_stubs.S): one stub per
 * vector, each EXCEPTION_STUB_SIZE bytes, so the IDT can be filled by a loop.
 */
#ifndef GUEST_EXCEPTION_STUBS_H
#define GUEST_EXCEPTION_STUBS_H

#define EXCEPTION_VECTORS   32
#define EXCEPTION_STUB_SIZE 16

#ifndef __ASSEMBLER__
extern const char exception_stubs[];
#endif

#endif
