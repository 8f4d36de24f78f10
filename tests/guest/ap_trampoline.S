/*
 * Application processor start-up.
 *
 * smp_start_aps() copies ap_trampoline..ap_trampoline_end to
 * AP_TRAMPOLINE_ADDR and sends INIT-SIPI-SIPI.  Each AP starts there in real
 * mode with CS = AP_TRAMPOLINE_ADDR >> 4, IP = 0; the copied code therefore
 * addresses its own data relative to CS, and leaves for the main image as
 * soon as it is in protected mode.
 */
#include "layout.h"
#include "long_mode.h"

        .section .rodata
        .code16
        .globl  ap_trampoline, ap_trampoline_end
ap_trampoline:
        cli
        cld
        mov     %cs, %ax
        mov     %ax, %ds
        lgdtl   ap_gdt_pointer - ap_trampoline
        mov     %cr0, %eax
        or      $CR0_PE, %eax
        mov     %eax, %cr0
        ljmpl   $KERNEL_CS32, $ap_start32

        .balign 8
ap_gdt_pointer:
        .word   GDT_ENTRIES * 8 - 1
        .long   gdt
ap_trampoline_end:

        .text
        .code32
ap_start32:
        mov     $KERNEL_DS, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        ENTER_LONG_MODE ap_long_mode

        .code64
ap_long_mode:
        /* Take a CPU index: APs are numbered 1, 2, ... in arrival order. */
        mov     $1, %eax
        lock xadd %eax, ap_next_index
        cmp     ap_cpu_limit, %eax
        jae     ap_park
        mov     %eax, %ebx
        mov     ap_kernel_stack_top(, %rbx, 8), %rsp
        lidt    idt_pointer
        mov     %ebx, %edi
        mov     %rsp, %rsi
        call    tss_load                /* tss_load(index, rsp0) */

        mov     %ebx, %edi
        mov     ap_user_stack_top(, %rbx, 8), %rsi
        mov     $smp_ap_main, %edx
        jmp     enter_user

/* More CPUs than expected or supported: leave the extra ones halted. */
ap_park:
        cli
        hlt
        jmp     ap_park

        .data
        .balign 4
ap_next_index:
        .long   1

        .section .note.GNU-stack, "", @progbits
