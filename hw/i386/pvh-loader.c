/*
 * Loading an ELF kernel with a PVH entry note and its boot information.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "exec/guest-ram.h"
#include "hw/boards.h"
#include "hw/i386/pvh.h"
#include "qemu/error-report.h"

static gchar *image;
static gsize image_size;

/* The ELF header fields we use, from either class. */
typedef struct ElfInfo {
    bool is64;
    uint64_t phoff;
    unsigned phnum, phentsize;
} ElfInfo;

typedef struct Segment {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
} Segment;

static bool in_image(uint64_t off, uint64_t len)
{
    return off <= image_size && len <= image_size - off;
}

static bool elf_header(ElfInfo *ei, GError **errp)
{
    const unsigned char *id = (const unsigned char *)image;

    if (image_size < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG)) {
        error_setg(errp, "not an ELF file (only ELF kernels with a PVH "
                   "entry note can be booted)");
        return false;
    }
    ei->is64 = id[EI_CLASS] == ELFCLASS64;
    if (id[EI_DATA] != ELFDATA2LSB ||
        (id[EI_CLASS] != ELFCLASS64 && id[EI_CLASS] != ELFCLASS32) ||
        !in_image(0, ei->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) {
        error_setg(errp, "unsupported ELF class or byte order");
        return false;
    }
    if (ei->is64) {
        const Elf64_Ehdr *eh = (const Elf64_Ehdr *)image;
        ei->phoff = eh->e_phoff;
        ei->phnum = eh->e_phnum;
        ei->phentsize = eh->e_phentsize;
        if (eh->e_machine != EM_X86_64) {
            goto bad_machine;
        }
    } else {
        const Elf32_Ehdr *eh = (const Elf32_Ehdr *)image;
        ei->phoff = eh->e_phoff;
        ei->phnum = eh->e_phnum;
        ei->phentsize = eh->e_phentsize;
        if (eh->e_machine != EM_386) {
            goto bad_machine;
        }
    }
    if (ei->phentsize < (ei->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr))
        || !in_image(ei->phoff, (uint64_t)ei->phnum * ei->phentsize)) {
        error_setg(errp, "corrupt ELF program headers");
        return false;
    }
    return true;

bad_machine:
    error_setg(errp, "not an x86 ELF file");
    return false;
}

static Segment elf_segment(const ElfInfo *ei, unsigned i)
{
    const char *p = image + ei->phoff + (uint64_t)i * ei->phentsize;

    if (ei->is64) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)p;
        return (Segment){ ph->p_type, ph->p_offset, ph->p_paddr,
                          ph->p_filesz, ph->p_memsz };
    } else {
        const Elf32_Phdr *ph = (const Elf32_Phdr *)p;
        return (Segment){ ph->p_type, ph->p_offset, ph->p_paddr,
                          ph->p_filesz, ph->p_memsz };
    }
}

/* Look for the Xen PHYS32_ENTRY note in one PT_NOTE segment. */
static bool find_pvh_note(const Segment *seg, uint64_t *entry)
{
    uint64_t off = seg->offset, end = seg->offset + seg->filesz;

    while (off + 12 <= end) {
        uint32_t namesz, descsz, type;
        uint64_t name_off = off + 12, desc_off, next;

        memcpy(&namesz, image + off, 4);
        memcpy(&descsz, image + off + 4, 4);
        memcpy(&type, image + off + 8, 4);
        desc_off = name_off + ((namesz + 3ULL) & ~3ULL);
        next = desc_off + ((descsz + 3ULL) & ~3ULL);
        if (next > end) {
            return false;
        }
        if (namesz == 4 && !memcmp(image + name_off, "Xen", 4) &&
            type == XEN_ELFNOTE_PHYS32_ENTRY && (descsz == 4 || descsz == 8)) {
            uint64_t v = 0;
            memcpy(&v, image + desc_off, descsz);
            *entry = v;
            return true;
        }
        off = next;
    }
    return false;
}

bool pvh_kernel_open(MachineState *ms, GError **errp)
{
    g_autoptr(GError) err = NULL;
    const char *file = ms->kernel_filename;
    ElfInfo ei;
    bool have_entry = false;

    if (!g_file_get_contents(file, &image, &image_size, &err)) {
        error_setg(errp, "could not load kernel '%s': %s", file,
                   err->code == G_FILE_ERROR_NOENT ? g_strerror(ENOENT)
                                                    : err->message);
        return false;
    }
    if (!elf_header(&ei, &err)) {
        goto fail;
    }
    for (unsigned i = 0; i < ei.phnum; i++) {
        Segment seg = elf_segment(&ei, i);

        if (seg.type == PT_NOTE && in_image(seg.offset, seg.filesz)) {
            have_entry |= find_pvh_note(&seg, &ms->entry);
        }
        if (seg.type != PT_LOAD) {
            continue;
        }
        if (!in_image(seg.offset, seg.filesz) || seg.filesz > seg.memsz) {
            error_setg(&err, "corrupt ELF segment %u", i);
            goto fail;
        }
        if (!guest_ram_ptr(seg.paddr, seg.memsz) ||
            seg.paddr < PVH_BOOT_INFO_END) {
            error_setg(&err, "segment %u at 0x%" G_GINT64_MODIFIER "x "
                       "(0x%" G_GINT64_MODIFIER "x bytes) does not fit in "
                       "RAM above 0x%x", i, seg.paddr, seg.memsz,
                       PVH_BOOT_INFO_END);
            goto fail;
        }
    }
    if (!have_entry) {
        error_setg(&err, "no PVH entry note (Xen ELF note %d)",
                   XEN_ELFNOTE_PHYS32_ENTRY);
        goto fail;
    }
    return true;

fail:
    error_setg(errp, "could not load kernel '%s': %s", file, err->message);
    pvh_kernel_close();
    return false;
}

static void add_memmap(struct hvm_memmap_table_entry *map, unsigned *n,
                       uint64_t addr, uint64_t size, uint32_t type)
{
    g_assert(*n < PVH_MEMMAP_MAX);
    map[(*n)++] = (struct hvm_memmap_table_entry){
        .addr = addr, .size = size, .type = type,
    };
}

void pvh_kernel_load(MachineState *ms)
{
    struct hvm_start_info *si = guest_ram_ptr(PVH_START_INFO_ADDR,
                                              sizeof(*si));
    struct hvm_memmap_table_entry *map =
        guest_ram_ptr(PVH_MEMMAP_ADDR, PVH_MEMMAP_MAX * sizeof(*map));
    const GuestRAMRange *low = guest_ram_range(0);
    ElfInfo ei;
    unsigned n = 0;

    elf_header(&ei, NULL);
    for (unsigned i = 0; i < ei.phnum; i++) {
        Segment seg = elf_segment(&ei, i);
        if (seg.type == PT_LOAD) {
            uint8_t *dst = guest_ram_ptr(seg.paddr, seg.memsz);
            memcpy(dst, image + seg.offset, seg.filesz);
            memset(dst + seg.filesz, 0, seg.memsz - seg.filesz);
        }
    }

    add_memmap(map, &n, 0, 0xa0000, E820_RAM);
    add_memmap(map, &n, 0xa0000, 0x100000 - 0xa0000, E820_RESERVED);
    add_memmap(map, &n, 0x100000, low->size - 0x100000, E820_RAM);
    if (guest_ram_nr_ranges() > 1) {
        add_memmap(map, &n, guest_ram_range(1)->gpa, guest_ram_range(1)->size,
                   E820_RAM);
    }

    memset(si, 0, sizeof(*si));
    si->magic = HVM_START_MAGIC;
    si->version = 1;
    si->memmap_paddr = PVH_MEMMAP_ADDR;
    si->memmap_entries = n;
    si->cmdline_paddr = PVH_CMDLINE_ADDR;
    g_strlcpy(guest_ram_ptr(PVH_CMDLINE_ADDR, PVH_CMDLINE_MAX),
              ms->kernel_cmdline ? ms->kernel_cmdline : "", PVH_CMDLINE_MAX);
    ms->start_info = PVH_START_INFO_ADDR;
}

void pvh_kernel_close(void)
{
    g_clear_pointer(&image, g_free);
    image_size = 0;
}
