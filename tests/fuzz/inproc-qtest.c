/*
 * libqtest.h's accessors, served in-process (see inproc-qtest.h).  Only
 * what libqos uses is here; starting or stopping a VMM makes no sense
 * in-process.
 *
 * Called with the BQL held, in the VMM's main thread.
 */
#include <string.h>

#include "exec/memory.h"
#include "inproc-qtest.h"

/* Enough for a burst of completions, bounded so that no input spins. */
#define POLL_MAX_ROUNDS 64

struct QTestState {
    int unused;
};

static QTestState the_state;

QTestState *inproc_qtest(void)
{
    return &the_state;
}

bool inproc_qtest_poll(void)
{
    bool any = false;

    for (unsigned i = 0; i < POLL_MAX_ROUNDS; i++) {
        if (!g_main_context_iteration(NULL, FALSE)) {
            break;
        }
        any = true;
    }
    return any;
}

void qtest_outb(QTestState *s, uint16_t addr, uint8_t value)
{
    address_space_stn(&address_space_io, addr, 1, value);
}

void qtest_outw(QTestState *s, uint16_t addr, uint16_t value)
{
    address_space_stn(&address_space_io, addr, 2, value);
}

void qtest_outl(QTestState *s, uint16_t addr, uint32_t value)
{
    address_space_stn(&address_space_io, addr, 4, value);
}

uint8_t qtest_inb(QTestState *s, uint16_t addr)
{
    return address_space_ldn(&address_space_io, addr, 1);
}

uint16_t qtest_inw(QTestState *s, uint16_t addr)
{
    return address_space_ldn(&address_space_io, addr, 2);
}

uint32_t qtest_inl(QTestState *s, uint16_t addr)
{
    return address_space_ldn(&address_space_io, addr, 4);
}

void qtest_writeb(QTestState *s, uint64_t addr, uint8_t value)
{
    address_space_stn(&address_space_memory, addr, 1, value);
}

void qtest_writew(QTestState *s, uint64_t addr, uint16_t value)
{
    address_space_stn(&address_space_memory, addr, 2, value);
}

void qtest_writel(QTestState *s, uint64_t addr, uint32_t value)
{
    address_space_stn(&address_space_memory, addr, 4, value);
}

void qtest_writeq(QTestState *s, uint64_t addr, uint64_t value)
{
    address_space_stn(&address_space_memory, addr, 8, value);
}

/*
 * Reads are where libqos polls for the device's progress: let the main
 * loop run first, as it would between two qtest commands.
 */
uint8_t qtest_readb(QTestState *s, uint64_t addr)
{
    inproc_qtest_poll();
    return address_space_ldn(&address_space_memory, addr, 1);
}

uint16_t qtest_readw(QTestState *s, uint64_t addr)
{
    inproc_qtest_poll();
    return address_space_ldn(&address_space_memory, addr, 2);
}

uint32_t qtest_readl(QTestState *s, uint64_t addr)
{
    inproc_qtest_poll();
    return address_space_ldn(&address_space_memory, addr, 4);
}

uint64_t qtest_readq(QTestState *s, uint64_t addr)
{
    inproc_qtest_poll();
    return address_space_ldn(&address_space_memory, addr, 8);
}

void qtest_memread(QTestState *s, uint64_t addr, void *data, size_t size)
{
    inproc_qtest_poll();
    address_space_read(&address_space_memory, addr, data, size);
}

void qtest_memwrite(QTestState *s, uint64_t addr, const void *data,
                    size_t size)
{
    address_space_write(&address_space_memory, addr, data, size);
}

void qtest_memset(QTestState *s, uint64_t addr, uint8_t value, size_t size)
{
    uint8_t chunk[4096];

    memset(chunk, value, sizeof(chunk));
    for (size_t done = 0; done < size; done += sizeof(chunk)) {
        address_space_write(&address_space_memory, addr + done, chunk,
                            MIN(sizeof(chunk), size - done));
    }
}

/* No timer runs on the virtual clock: stepping it is a chance to run. */
int64_t qtest_clock_step(QTestState *s, int64_t ns)
{
    inproc_qtest_poll();
    return 0;
}
