/*
 * PVH entry point of the boot CPU.
 *
 * The loader enters pvh_start32 in 32-bit protected mode with paging off and
 * %ebx holding the physical address of struct hvm_start_info.  Ring 0 runs
 * emulated on this platform, so this does the minimum: long mode, IDT, TSS,
 * kvmclock (or a CPUID frequency probe), then iretq to guest_start() in
 * ring 3 with IOPL 3 and IF=0.
 */
#include "layout.h"
#include "long_mode.h"

/* XEN_ELFNOTE_PHYS32_ENTRY: the loader finds the 32-bit entry point here. */
        .section .note.Xen, "a", @note
        .balign 4
        .long   4               /* name size */
        .long   4               /* descriptor size */
        .long   18              /* type: XEN_ELFNOTE_PHYS32_ENTRY */
        .asciz  "Xen"
        .long   pvh_start32

        .text
        .code32
        .globl  pvh_start32
pvh_start32:
        cli
        cld
        ENTER_LONG_MODE bsp_long_mode

        .code64
bsp_long_mode:
        mov     $KERNEL_DS, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ebx, %r12d             /* start_info survives the C calls */
        mov     $bsp_kernel_stack + KERNEL_STACK_SIZE, %esp

        call    idt_init
        xor     %edi, %edi
        mov     %rsp, %rsi
        call    tss_load                /* tss_load(0, rsp0) */
        call    timing_probe

        mov     %r12, %rdi
        mov     $bsp_user_stack + USER_STACK_SIZE, %esi
        mov     $guest_start, %edx
        jmp     enter_user

/*
 * enter_user: iretq to %rdx in ring 3 on the stack whose top is %rsi,
 * leaving %rdi as the first argument.  Does not return.
 */
        .globl  enter_user
enter_user:
        sub     $8, %rsi                /* as if a return address was pushed */
        push    $(USER_DS | USER_RPL)
        push    %rsi
        push    $USER_RFLAGS
        push    $(USER_CS64 | USER_RPL)
        push    %rdx
        iretq

        .bss
        .balign 16
bsp_kernel_stack:
        .skip   KERNEL_STACK_SIZE
        .balign 16
bsp_user_stack:
        .skip   USER_STACK_SIZE

        .section .note.GNU-stack, "", @progbits
