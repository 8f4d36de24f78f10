/*
 * The common operations of the fuzz input format (see fuzz-input.h).
 *
 * Called with the BQL held, in the VMM's main thread.
 */
#include <string.h>

#include "exec/memory.h"
#include "fuzz-input.h"
#include "fuzz-machine.h"
#include "inproc-qtest.h"

#define PCI_CONFIG_ADDR     0xcf8
#define PCI_CONFIG_DATA     0xcfc
#define MAX_PCI_DEVICES     32
/* Bounds of one operation: a page of data, 64 KiB of memset. */
#define MAX_WRITE_BUF       4096
#define MAX_MEMSET          (64 * 1024)

static uint8_t pci_devfns[MAX_PCI_DEVICES];
static unsigned nr_pci_devices;
static bool raw_write;

uint8_t fuzz_u8(FuzzInput *in)
{
    if (!in->left) {
        return 0;
    }
    in->left--;
    return *in->p++;
}

/* Little-endian; the bytes are read one statement at a time, in order. */
static uint64_t fuzz_le(FuzzInput *in, unsigned bytes)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < bytes; i++) {
        v |= (uint64_t)fuzz_u8(in) << (8 * i);
    }
    return v;
}

uint16_t fuzz_u16(FuzzInput *in)
{
    return fuzz_le(in, 2);
}

uint32_t fuzz_u32(FuzzInput *in)
{
    return fuzz_le(in, 4);
}

uint64_t fuzz_u64(FuzzInput *in)
{
    return fuzz_le(in, 8);
}

size_t fuzz_bytes(FuzzInput *in, size_t len, const uint8_t **data)
{
    len = MIN(len, in->left);
    *data = in->p;
    in->p += len;
    in->left -= len;
    return len;
}

unsigned fuzz_access_size(uint8_t sel, unsigned max)
{
    unsigned size = 1u << (sel % 4);

    return MIN(size, max);
}

bool fuzz_take_raw_write(void)
{
    bool was = raw_write;

    raw_write = false;
    return was;
}

static uint32_t pci_config_address(uint8_t devfn, uint8_t offset)
{
    return 0x80000000u | (uint32_t)devfn << 8 | (offset & 0xfc);
}

static uint32_t pci_config_readl(uint8_t devfn, uint8_t offset)
{
    address_space_stn(&address_space_io, PCI_CONFIG_ADDR, 4,
                      pci_config_address(devfn, offset));
    return address_space_ldn(&address_space_io, PCI_CONFIG_DATA, 4);
}

void fuzz_pci_scan(void)
{
    nr_pci_devices = 0;
    for (unsigned devfn = 0; devfn < 256; devfn++) {
        if ((pci_config_readl(devfn, 0) & 0xffff) != 0xffff &&
            nr_pci_devices < MAX_PCI_DEVICES) {
            pci_devfns[nr_pci_devices++] = devfn;
        }
    }
}

int fuzz_pci_find(uint16_t vendor_id, uint16_t device_id, unsigned nth)
{
    uint32_t ids = vendor_id | (uint32_t)device_id << 16;

    for (unsigned i = 0; i < nr_pci_devices; i++) {
        if (pci_config_readl(pci_devfns[i], 0) == ids && !nth--) {
            return pci_devfns[i];
        }
    }
    return -1;
}

static uint8_t pick_devfn(uint8_t sel)
{
    return nr_pci_devices ? pci_devfns[sel % nr_pci_devices] : 0;
}

/* The bytes of the data port that a size-byte access at offset uses. */
static void pci_config_access(uint8_t devfn, uint8_t offset, unsigned size,
                              bool write, uint32_t value)
{
    offset &= ~(size - 1);
    address_space_stn(&address_space_io, PCI_CONFIG_ADDR, 4,
                      pci_config_address(devfn, offset));
    if (write) {
        address_space_stn(&address_space_io, PCI_CONFIG_DATA + (offset & 3),
                          size, value);
    } else {
        address_space_ldn(&address_space_io, PCI_CONFIG_DATA + (offset & 3),
                          size);
    }
}

/*
 * Where BAR bar of the device is now, as its registers say (the input may
 * have moved it); false if it is not implemented or not placed.
 */
static bool bar_location(uint8_t devfn, unsigned bar, uint64_t *addr,
                         bool *is_io)
{
    uint8_t reg = 0x10 + 4 * bar;
    uint32_t lo = pci_config_readl(devfn, reg);
    uint64_t a;

    *is_io = lo & 1;
    if (*is_io) {
        a = lo & ~3u;
    } else {
        a = lo & ~0xfu;
        if ((lo & 6) == 4 && bar < 5) {
            a |= (uint64_t)pci_config_readl(devfn, reg + 4) << 32;
        }
    }
    *addr = a;
    return a != 0;
}

/*
 * BAR_*: the offset wraps at 64 KiB, enough for every structure of the
 * virtio-blk-pci BARs (BAR 2's rings of region 0 included at small sizes).
 */
static void bar_access(FuzzInput *in, bool write)
{
    uint8_t devfn = pick_devfn(fuzz_u8(in));
    unsigned bar = fuzz_u8(in) % 6;
    uint32_t offset = fuzz_u32(in) & 0xffff;
    unsigned size = fuzz_access_size(fuzz_u8(in), 8);
    uint64_t value = write ? fuzz_u64(in) : 0;
    uint64_t addr;
    bool is_io;

    if (!bar_location(devfn, bar, &addr, &is_io)) {
        return;
    }
    raw_write |= write;
    if (is_io) {
        size = MIN(size, 4);
        if (write) {
            address_space_stn(&address_space_io, (addr + offset) & 0xffff,
                              size, value);
        } else {
            address_space_ldn(&address_space_io, (addr + offset) & 0xffff,
                              size);
        }
    } else if (write) {
        address_space_stn(&address_space_memory, addr + offset, size, value);
    } else {
        address_space_ldn(&address_space_memory, addr + offset, size);
    }
}

void fuzz_run_common_op(unsigned op, FuzzInput *in)
{
    switch (op) {
    case FUZZ_OP_IO_WRITE: {
        unsigned size = fuzz_access_size(fuzz_u8(in), 4);
        uint16_t port = fuzz_u16(in);

        raw_write = true;
        address_space_stn(&address_space_io, port, size, fuzz_u32(in));
        break;
    }
    case FUZZ_OP_IO_READ: {
        unsigned size = fuzz_access_size(fuzz_u8(in), 4);

        address_space_ldn(&address_space_io, fuzz_u16(in), size);
        break;
    }
    case FUZZ_OP_MEM_WRITE: {
        unsigned size = fuzz_access_size(fuzz_u8(in), 8);
        uint64_t addr = fuzz_u64(in);
        uint64_t value = fuzz_u64(in);

        /* As the qtest protocol: no access wraps around. */
        if (addr <= UINT64_MAX - (size - 1)) {
            raw_write = true;
            address_space_stn(&address_space_memory, addr, size, value);
        }
        break;
    }
    case FUZZ_OP_MEM_READ: {
        unsigned size = fuzz_access_size(fuzz_u8(in), 8);
        uint64_t addr = fuzz_u64(in);

        if (addr <= UINT64_MAX - (size - 1)) {
            address_space_ldn(&address_space_memory, addr, size);
        }
        break;
    }
    case FUZZ_OP_MEM_WRITE_BUF: {
        uint64_t addr = fuzz_u64(in);
        size_t len = fuzz_u16(in) % (MAX_WRITE_BUF + 1);
        const uint8_t *data;

        len = fuzz_bytes(in, len, &data);
        if (len && addr + (len - 1) >= addr) {
            raw_write = true;
            address_space_write(&address_space_memory, addr, data, len);
        }
        break;
    }
    case FUZZ_OP_MEMSET: {
        uint64_t addr = fuzz_u64(in);
        size_t len = fuzz_u32(in) % (MAX_MEMSET + 1);
        uint8_t value = fuzz_u8(in);

        if (len && addr + (len - 1) >= addr) {
            raw_write = true;
            qtest_memset(inproc_qtest(), addr, value, len);
        }
        break;
    }
    case FUZZ_OP_RUN:
        inproc_qtest_poll();
        break;
    case FUZZ_OP_PCI_CFG_WRITE:
    case FUZZ_OP_PCI_CFG_READ: {
        uint8_t devfn = pick_devfn(fuzz_u8(in));
        uint8_t offset = fuzz_u8(in);
        unsigned size = fuzz_access_size(fuzz_u8(in), 4);
        bool write = op == FUZZ_OP_PCI_CFG_WRITE;

        raw_write |= write;
        pci_config_access(devfn, offset, size, write,
                          write ? fuzz_u32(in) : 0);
        break;
    }
    case FUZZ_OP_BAR_WRITE:
        bar_access(in, true);
        break;
    case FUZZ_OP_BAR_READ:
        bar_access(in, false);
        break;
    case FUZZ_OP_RESET:
        fuzz_machine_reset();
        break;
    default:
        g_assert_not_reached();
    }
}
