/*
 * The fuzz targets' input format: a sequence of operations, each an opcode
 * byte followed by its little-endian arguments.  An input that runs out
 * reads as zeroes; an opcode beyond the table wraps around.  Opcodes below
 * FUZZ_OP_TARGET are the same for every target (docs/devel/fuzzing.rst
 * lists them, and scripts/qtest-log-to-seed.py writes them); each target
 * adds its own after them.
 *
 * Called with the BQL held, in the VMM's main thread.
 */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct FuzzInput {
    const uint8_t *p;
    size_t left;
} FuzzInput;

uint8_t fuzz_u8(FuzzInput *in);
uint16_t fuzz_u16(FuzzInput *in);
uint32_t fuzz_u32(FuzzInput *in);
uint64_t fuzz_u64(FuzzInput *in);
/* Up to len bytes of the input (fewer if it runs out); returns how many. */
size_t fuzz_bytes(FuzzInput *in, size_t len, const uint8_t **data);

/* The common operations. */
enum {
    FUZZ_OP_IO_WRITE,       /* u8 size, u16 port, u32 value */
    FUZZ_OP_IO_READ,        /* u8 size, u16 port */
    FUZZ_OP_MEM_WRITE,      /* u8 size, u64 addr, u64 value */
    FUZZ_OP_MEM_READ,       /* u8 size, u64 addr */
    FUZZ_OP_MEM_WRITE_BUF,  /* u64 addr, u16 len, len bytes */
    FUZZ_OP_MEMSET,         /* u64 addr, u32 len, u8 value */
    FUZZ_OP_RUN,            /* let the main loop dispatch what is ready */
    FUZZ_OP_PCI_CFG_WRITE,  /* u8 device, u8 offset, u8 size, u32 value */
    FUZZ_OP_PCI_CFG_READ,   /* u8 device, u8 offset, u8 size */
    FUZZ_OP_BAR_WRITE,      /* u8 device, u8 bar, u32 offset, u8 size, u64 */
    FUZZ_OP_BAR_READ,       /* u8 device, u8 bar, u32 offset, u8 size */
    FUZZ_OP_RESET,          /* machine reset */
    FUZZ_OP_TARGET,
};

/* The access size an argument byte selects: 1, 2, 4 or 8 (max 4 for I/O). */
unsigned fuzz_access_size(uint8_t sel, unsigned max);

/* Execute one common operation (op < FUZZ_OP_TARGET). */
void fuzz_run_common_op(unsigned op, FuzzInput *in);

/*
 * Whether any operation since the last call wrote behind the driver's
 * back: guest memory or a BAR (MEM_WRITE, MEM_WRITE_BUF, MEMSET,
 * BAR_WRITE), PCI configuration or an I/O port (PCI_CFG_WRITE, IO_WRITE:
 * they can move BARs or turn decoding off).  From then on, what libqos
 * believes of the device and its rings may be false (fuzz-virtqueue.c,
 * fuzz-uring.c).
 */
bool fuzz_take_raw_write(void);

/*
 * The PCI devices that PCI_CFG_* and BAR_* address (slots on bus 0, in
 * creation order), found at start.
 */
void fuzz_pci_scan(void);
/* The devfn of the nth device found with these IDs; -1 if none. */
int fuzz_pci_find(uint16_t vendor_id, uint16_t device_id, unsigned nth);

#endif
