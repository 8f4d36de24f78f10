/*
 * ACPI: find the MADT through the RSDP and count its enabled local APIC
 * (and x2APIC) entries, so that smp_start_aps() knows how many CPUs to
 * wait for.  Tables are read in place; they live below 4 GiB.
 */
#include "acpi.h"

#include <stdbool.h>

#include "libc.h"

struct rsdp {
    char signature[8];          /* "RSD PTR " */
    uint8_t checksum;
    char oem_id[6];
    uint8_t revision;           /* 0: ACPI 1.0, RSDT only; 2: XSDT too */
    uint32_t rsdt_address;
    uint32_t length;
    uint64_t xsdt_address;
} __attribute__((packed));

struct sdt_header {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
} __attribute__((packed));

#define MADT_ENTRIES_OFFSET     (sizeof(struct sdt_header) + 8)
#define MADT_LOCAL_APIC         0
#define MADT_LOCAL_X2APIC       9
#define MADT_ENABLED            1

#define BIOS_AREA_START         0xe0000
#define BIOS_AREA_END           0x100000

static uint64_t rsdp_address;

static bool checksum_ok(const void *p, uint32_t len)
{
    const uint8_t *b = p;
    uint8_t sum = 0;

    for (uint32_t i = 0; i < len; i++) {
        sum += b[i];
    }
    return sum == 0;
}

static const struct rsdp *find_rsdp(void)
{
    if (rsdp_address) {
        return (const void *)(uintptr_t)rsdp_address;
    }
    for (uintptr_t a = BIOS_AREA_START; a < BIOS_AREA_END; a += 16) {
        const struct rsdp *r = (const void *)a;

        if (!memcmp(r->signature, "RSD PTR ", 8) && checksum_ok(r, 20)) {
            return r;
        }
    }
    return NULL;
}

static const struct sdt_header *find_table(const char *signature)
{
    const struct rsdp *rsdp = find_rsdp();
    const struct sdt_header *root;
    unsigned int entry_size;

    if (!rsdp) {
        return NULL;
    }
    if (rsdp->revision >= 2 && rsdp->xsdt_address) {
        root = (const void *)(uintptr_t)rsdp->xsdt_address;
        entry_size = 8;
    } else {
        root = (const void *)(uintptr_t)rsdp->rsdt_address;
        entry_size = 4;
    }
    const uint8_t *entries = (const uint8_t *)(root + 1);
    unsigned int n = (root->length - sizeof(*root)) / entry_size;

    for (unsigned int i = 0; i < n; i++) {
        uint64_t addr = 0;

        memcpy(&addr, entries + i * entry_size, entry_size);
        const struct sdt_header *t = (const void *)(uintptr_t)addr;

        if (!memcmp(t->signature, signature, 4) && checksum_ok(t, t->length)) {
            return t;
        }
    }
    return NULL;
}

void acpi_init(uint64_t rsdp_paddr)
{
    rsdp_address = rsdp_paddr;
}

unsigned int acpi_count_cpus(void)
{
    const struct sdt_header *madt = find_table("APIC");
    unsigned int cpus = 0;

    if (!madt) {
        return 0;
    }
    const uint8_t *p = (const uint8_t *)madt + MADT_ENTRIES_OFFSET;
    const uint8_t *end = (const uint8_t *)madt + madt->length;

    /* Entry: type, length, then type-specific fields. */
    while (p + 2 <= end && p[1] >= 2) {
        uint32_t flags;

        if (p[0] == MADT_LOCAL_APIC) {
            memcpy(&flags, p + 4, 4);           /* uid, apic id, flags */
            cpus += flags & MADT_ENABLED;
        } else if (p[0] == MADT_LOCAL_X2APIC) {
            memcpy(&flags, p + 8, 4);           /* reserved, x2apic id, flags */
            cpus += flags & MADT_ENABLED;
        }
        p += p[1];
    }
    return cpus;
}
