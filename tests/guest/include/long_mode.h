/*
 * Assembly macro shared by the boot CPU and the APs: switch from 32-bit
 * protected mode (paging off) to long mode using the library's GDT and
 * identity page tables, then far-jump to a 64-bit label.
 */
#ifndef GUEST_LONG_MODE_H
#define GUEST_LONG_MODE_H

#include "layout.h"

.macro ENTER_LONG_MODE target
        lgdt    gdt_pointer
        mov     %cr4, %eax
        or      $CR4_PAE, %eax
        mov     %eax, %cr4
        mov     $pml4, %eax
        mov     %eax, %cr3
        mov     $MSR_EFER, %ecx
        rdmsr
        or      $EFER_LME, %eax
        wrmsr
        mov     %cr0, %eax
        /* APs come out of INIT with caching disabled (CD, NW set). */
        and     $~(CR0_CD | CR0_NW), %eax
        or      $(CR0_PG | CR0_PE), %eax
        mov     %eax, %cr0
        ljmp    $KERNEL_CS64, $\target
.endm

#endif
