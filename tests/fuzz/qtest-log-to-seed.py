#!/usr/bin/env python3
"""Turn qtest protocol logs into fuzz seeds (docs/devel/fuzzing.rst).

    qtest-log-to-seed.py [--prefix HEX] [--max-bytes N] LOG OUTDIR NAME

LOG is what the VMM logs with -qtest-log (or on stderr with QTEST_LOG=1
set for a qtest): the requests, "[R +T] COMMAND ARGS", of one or more
sessions, each starting with "[I ...] OPENED".  Each session becomes one
seed, OUTDIR/NAME-N: the target's set-up bytes (--prefix), then the
requests as the common operations of tests/fuzz/fuzz-input.h, cut at
--max-bytes.  Requests without an effect on the device side (reads of
guest RAM, interrupt interception) are left out.
"""
import argparse
import base64
import os
import struct
import sys

# Opcodes of the common operations (tests/fuzz/fuzz-input.h).
OP_IO_WRITE, OP_IO_READ, OP_MEM_WRITE, OP_MEM_READ = 0, 1, 2, 3
OP_MEM_WRITE_BUF, OP_MEMSET, OP_RUN = 4, 5, 6
MAX_WRITE_BUF = 4096
MAX_MEMSET = 64 * 1024
SIZE_SEL = {'b': 0, 'w': 1, 'l': 2, 'q': 3}


def num(text):
    return int(text, 0)


def buf_writes(addr, data):
    out = b''
    for i in range(0, len(data), MAX_WRITE_BUF):
        chunk = data[i:i + MAX_WRITE_BUF]
        out += struct.pack('<BQH', OP_MEM_WRITE_BUF, addr + i, len(chunk))
        out += chunk
    return out


def convert(words):
    """The operations of one request, as bytes (b'' if none)."""
    cmd, args = words[0], words[1:]
    if cmd in ('outb', 'outw', 'outl'):
        return struct.pack('<BBHI', OP_IO_WRITE, SIZE_SEL[cmd[-1]],
                           num(args[0]), num(args[1]))
    if cmd in ('inb', 'inw', 'inl'):
        return struct.pack('<BBH', OP_IO_READ, SIZE_SEL[cmd[-1]],
                           num(args[0]))
    if cmd in ('writeb', 'writew', 'writel', 'writeq'):
        return struct.pack('<BBQQ', OP_MEM_WRITE, SIZE_SEL[cmd[-1]],
                           num(args[0]), num(args[1]))
    if cmd in ('readb', 'readw', 'readl', 'readq'):
        # Device registers may have read side effects (the ISR status).
        return struct.pack('<BBQ', OP_MEM_READ, SIZE_SEL[cmd[-1]],
                           num(args[0]))
    if cmd == 'write':
        size, digits = num(args[1]), args[2][2:]
        data = bytes.fromhex(digits)[:size]
        return buf_writes(num(args[0]), data + bytes(size - len(data)))
    if cmd == 'b64write':
        size = num(args[1])
        data = base64.b64decode(args[2])[:size]
        return buf_writes(num(args[0]), data + bytes(size - len(data)))
    if cmd == 'memset':
        addr, size, value = num(args[0]), num(args[1]), num(args[2])
        out = b''
        for i in range(0, size, MAX_MEMSET):
            out += struct.pack('<BQIB', OP_MEMSET, addr + i,
                               min(MAX_MEMSET, size - i), value)
        return out
    if cmd == 'clock_step':
        return bytes([OP_RUN])
    return b''


def sessions(lines):
    current = None
    for line in lines:
        if line.startswith('[I ') and line.rstrip().endswith('OPENED'):
            if current is not None:
                yield current
            current = []
        elif line.startswith('[R ') and current is not None:
            words = line.split(']', 1)[1].split()
            if words:
                current.append(words)
    if current is not None:
        yield current


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--prefix', default='', help='set-up bytes, in hex')
    p.add_argument('--max-bytes', type=int, default=16384)
    p.add_argument('log')
    p.add_argument('outdir')
    p.add_argument('name')
    a = p.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    with open(a.log, errors='replace') as f:
        lines = f.readlines()
    n = 0
    for requests in sessions(lines):
        seed = bytes.fromhex(a.prefix)
        for words in requests:
            try:
                seed += convert(words)
            except (ValueError, IndexError, KeyError, struct.error):
                continue    # a malformed request, as some tests send
            if len(seed) >= a.max_bytes:
                break
        seed = seed[:a.max_bytes]
        path = os.path.join(a.outdir, '%s-%d' % (a.name, n))
        with open(path, 'wb') as f:
            f.write(seed)
        n += 1
    print('%s: %d seed(s) in %s' % (a.log, n, a.outdir), file=sys.stderr)


if __name__ == '__main__':
    main()
