/*
 * A 16550A UART: THR/RBR, IER, IIR/FCR, LCR, MCR, LSR, MSR, SCR, the
 * divisor latch, a 16-byte receive FIFO, loopback, and a level interrupt.
 * Output goes to the back-end at once, so the transmitter is always empty.
 *
 * -device isa-serial,chardev=ID,index=N puts it at COM(N+1)'s ports and IRQ
 * as on a PC; without index=, at the first free one.
 */
#include "chardev/char.h"
#include "exec/memory.h"
#include "hw/char/serial.h"
#include "hw/qdev-properties-system.h"
#include "qemu/error-report.h"
#include "sysemu/accel.h"

#define UART_IER_RDI    0x01    /* received data available */
#define UART_IER_THRI   0x02    /* transmitter holding register empty */
#define UART_IER_RLSI   0x04    /* receiver line status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_THRI   0x02
#define UART_IIR_RDI    0x04
#define UART_IIR_RLSI   0x06
#define UART_IIR_FIFO   0xc0

#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLR_RX 0x02

#define UART_LCR_DLAB   0x80

#define UART_MCR_OUT2   0x08
#define UART_MCR_LOOP   0x10

#define UART_LSR_DR     0x01    /* data ready */
#define UART_LSR_OE     0x02    /* overrun */
#define UART_LSR_THRE   0x20
#define UART_LSR_TEMT   0x40

#define UART_MSR_CTS    0x10
#define UART_MSR_DSR    0x20
#define UART_MSR_DCD    0x80

#define RX_FIFO_SIZE    16

#define ISA_SERIAL_PORTS 4
#define FROM_INDEX      UINT32_MAX      /* iobase/irq: COMn's */

static const struct { uint32_t iobase, irq; } com_ports[ISA_SERIAL_PORTS] = {
    { 0x3f8, 4 }, { 0x2f8, 3 }, { 0x3e8, 4 }, { 0x2e8, 3 },
};

/* Which indexes realized UARTs hold (BQL). */
static bool index_used[ISA_SERIAL_PORTS];

typedef struct SerialState {
    DeviceState qdev;
    int32_t index;              /* -1: the first free one */
    uint32_t iobase;
    uint32_t irq;
    Chardev *chr;
    MemoryRegion io;

    uint16_t divisor;
    uint8_t ier, lcr, mcr, lsr, scr, fcr;
    bool thr_interrupt;         /* THRE interrupt pending until IIR read */
    bool irq_level;
    uint8_t rx[RX_FIFO_SIZE];
    unsigned rx_head, rx_count;
} SerialState;

static uint8_t serial_iir(SerialState *s)
{
    uint8_t fifo = (s->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO : 0;

    if ((s->ier & UART_IER_RLSI) && (s->lsr & UART_LSR_OE)) {
        return UART_IIR_RLSI | fifo;
    }
    if ((s->ier & UART_IER_RDI) && s->rx_count) {
        return UART_IIR_RDI | fifo;
    }
    if ((s->ier & UART_IER_THRI) && s->thr_interrupt) {
        return UART_IIR_THRI | fifo;
    }
    return UART_IIR_NO_INT | fifo;
}

static void serial_update_irq(SerialState *s)
{
    /* On a PC, OUT2 gates the UART's interrupt line. */
    bool level = !(serial_iir(s) & UART_IIR_NO_INT) &&
                 (s->mcr & UART_MCR_OUT2);

    if (level != s->irq_level) {
        s->irq_level = level;
        current_accel->set_irq(s->irq, level);
    }
}

static void serial_rx_push(SerialState *s, uint8_t byte)
{
    if (s->rx_count == RX_FIFO_SIZE) {
        s->lsr |= UART_LSR_OE;
        return;
    }
    s->rx[(s->rx_head + s->rx_count++) % RX_FIFO_SIZE] = byte;
    s->lsr |= UART_LSR_DR;
}

static void serial_receive(void *opaque, const uint8_t *buf, size_t len)
{
    SerialState *s = opaque;

    if (s->mcr & UART_MCR_LOOP) {
        return;
    }
    for (size_t i = 0; i < len; i++) {
        serial_rx_push(s, buf[i]);
    }
    serial_update_irq(s);
}

static uint64_t serial_read(void *opaque, uint64_t addr, unsigned size)
{
    SerialState *s = opaque;
    uint8_t v = 0;

    switch (addr) {
    case 0:
        if (s->lcr & UART_LCR_DLAB) {
            return s->divisor & 0xff;
        }
        if (s->rx_count) {
            v = s->rx[s->rx_head];
            s->rx_head = (s->rx_head + 1) % RX_FIFO_SIZE;
            if (--s->rx_count == 0) {
                s->lsr &= ~UART_LSR_DR;
            }
        }
        break;
    case 1:
        v = (s->lcr & UART_LCR_DLAB) ? s->divisor >> 8 : s->ier;
        break;
    case 2:
        v = serial_iir(s);
        if ((v & 0x0f) == UART_IIR_THRI) {
            s->thr_interrupt = false;
        }
        break;
    case 3:
        v = s->lcr;
        break;
    case 4:
        v = s->mcr;
        break;
    case 5:
        v = s->lsr;
        s->lsr &= ~UART_LSR_OE;
        break;
    case 6:
        if (s->mcr & UART_MCR_LOOP) {
            /* Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
            v = ((s->mcr & 0x0c) << 4) | ((s->mcr & 0x01) << 5) |
                ((s->mcr & 0x02) << 3);
        } else {
            v = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
        }
        break;
    case 7:
        v = s->scr;
        break;
    }
    serial_update_irq(s);
    return v;
}

static void serial_write(void *opaque, uint64_t addr, uint64_t val,
                         unsigned size)
{
    SerialState *s = opaque;
    uint8_t byte = val;

    switch (addr) {
    case 0:
        if (s->lcr & UART_LCR_DLAB) {
            s->divisor = (s->divisor & 0xff00) | byte;
            break;
        }
        if (s->mcr & UART_MCR_LOOP) {
            serial_rx_push(s, byte);
        } else {
            qemu_chr_write(s->chr, &byte, 1);
        }
        s->thr_interrupt = true;
        break;
    case 1:
        if (s->lcr & UART_LCR_DLAB) {
            s->divisor = (s->divisor & 0xff) | (byte << 8);
            break;
        }
        /* Enabling THRI with an empty transmitter raises it at once. */
        if (!(s->ier & UART_IER_THRI) && (byte & UART_IER_THRI)) {
            s->thr_interrupt = true;
        }
        s->ier = byte & 0x0f;
        break;
    case 2:
        s->fcr = byte & 0xc1;
        if (byte & UART_FCR_CLR_RX) {
            s->rx_count = 0;
            s->lsr &= ~UART_LSR_DR;
        }
        break;
    case 3:
        s->lcr = byte;
        break;
    case 4:
        s->mcr = byte & 0x1f;
        break;
    case 7:
        s->scr = byte;
        break;
    }
    serial_update_irq(s);
}

static const MemoryRegionOps serial_ops = {
    .read = serial_read,
    .write = serial_write,
};

static void serial_reset(DeviceState *dev)
{
    SerialState *s = (SerialState *)dev;

    s->divisor = 12;    /* 9600 baud */
    s->ier = s->fcr = s->mcr = s->scr = 0;
    s->lcr = 0x03;
    s->lsr = UART_LSR_THRE | UART_LSR_TEMT;
    s->thr_interrupt = false;
    s->rx_head = s->rx_count = 0;
    serial_update_irq(s);
}

/* Called with the BQL held, at start-up. */
static bool serial_realize(DeviceState *dev, GError **errp)
{
    SerialState *s = (SerialState *)dev;

    if (s->index < 0) {
        for (s->index = 0; s->index < ISA_SERIAL_PORTS; s->index++) {
            if (!index_used[s->index]) {
                break;
            }
        }
    }
    if (s->index >= ISA_SERIAL_PORTS) {
        error_setg(errp, "Max. supported number of ISA serial ports is %d.",
                   ISA_SERIAL_PORTS);
        return false;
    }
    if (index_used[s->index]) {
        error_setg(errp, "ISA serial port index %d (COM%d) is in use",
                   s->index, s->index + 1);
        return false;
    }
    index_used[s->index] = true;
    if (s->iobase == FROM_INDEX) {
        s->iobase = com_ports[s->index].iobase;
    }
    if (s->irq == FROM_INDEX) {
        s->irq = com_ports[s->index].irq;
    }
    memory_region_init_io(&s->io, "serial", 8, &serial_ops, s);
    memory_region_map(&s->io, &address_space_io, s->iobase, 0);
    if (s->chr) {
        qemu_chr_set_handlers(s->chr, serial_receive, NULL, s);
    }
    serial_reset(dev);
    return true;
}

static void serial_unrealize(DeviceState *dev)
{
    SerialState *s = (SerialState *)dev;

    memory_region_destroy(&s->io);
    index_used[s->index] = false;
    /* The chardev property gives the back-end back when the device goes. */
}

static const Property serial_props[] = {
    DEFINE_PROP_CHR("chardev", SerialState, chr),
    DEFINE_PROP("index", SerialState, index, prop_info_int32,
                .defval = (uint64_t)-1,
                .desc = "COM1..COM4 = 0..3 (default: the first free one)"),
    DEFINE_PROP("iobase", SerialState, iobase, prop_info_uint32,
                .defval = FROM_INDEX, .desc = "default: COMn's"),
    DEFINE_PROP("irq", SerialState, irq, prop_info_uint32,
                .defval = FROM_INDEX, .desc = "default: COMn's"),
    DEFINE_PROP_END_OF_LIST(),
};

static const DeviceClass serial_isa_class = {
    .name = "isa-serial",
    .desc = "16550A UART",
    .instance_size = sizeof(SerialState),
    .props = serial_props,
    .user_creatable = true,
    .realize = serial_realize,
    .unrealize = serial_unrealize,
    .reset = serial_reset,
};
DEVICE_CLASS_REGISTER(serial_isa_class)

DeviceState *serial_isa_create(int index, Chardev *chr, GError **errp)
{
    DeviceState *dev = qdev_new("isa-serial");
    g_autofree char *index_str = g_strdup_printf("%d", index);

    if (!qdev_prop_set(dev, "index", index_str, errp) ||
        !qdev_prop_set(dev, "chardev", qemu_chr_label(chr), errp) ||
        !qdev_realize(dev, errp)) {
        qdev_destroy(dev);
        return NULL;
    }
    return dev;
}
