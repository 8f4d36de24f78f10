/*
 * Exception entry stubs.  Each pushes a dummy error code where the CPU does
 * not push one, then the vector, so that guest_exception() always sees a
 * struct exception_frame.  Reports never return: no registers are saved.
 */
#include "exception_stubs.h"

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || \
                           (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

        .text
        .code64
        .balign EXCEPTION_STUB_SIZE
        .globl  exception_stubs
exception_stubs:
        .set    vector, 0
        .rept   EXCEPTION_VECTORS
        .balign EXCEPTION_STUB_SIZE
        .if     !HAS_ERROR_CODE(vector)
        push    $0
        .endif
        push    $vector
        jmp     exception_common
        .set    vector, vector + 1
        .endr

exception_common:
        mov     %rsp, %rdi
        mov     %cr2, %rsi
        and     $-16, %rsp
        call    guest_exception

        .section .note.GNU-stack, "", @progbits
