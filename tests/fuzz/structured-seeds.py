#!/usr/bin/env python3
"""Write the hand-made seeds of the fuzz targets' own operations.

    structured-seeds.py CORPUS_DIR

Beside the seeds converted from qtest logs (qtest-log-to-seed.py), each
target gets a few inputs that use its structured operations the way a
driver would, so that fuzzing starts from working requests: see the
operation tables in tests/fuzz/fuzz-*.c.
"""
import os
import struct
import sys

OP_TARGET = 12


def virtio_blk_pci():
    neg, qsetup, driver_ok, vwrite, vread = range(OP_TARGET, OP_TARGET + 5)
    seeds = {}
    for feat in (0x1_0000_0000, 0x1_3000_0000, 0x5_3000_0000, 0x1_0000_7e46):
        s = struct.pack('<BQ', neg, feat)
        s += struct.pack('<BBH', qsetup, 0, 16)
        s += struct.pack('<BBH', qsetup, 1, 256)
        s += bytes([driver_ok])
        # MSI-X table entry 0, then the device configuration
        s += struct.pack('<BBHBQ', vwrite, 4, 0, 2, 0xfee00000)
        s += struct.pack('<BBHB', vread, 3, 0, 3)
        s += struct.pack('<BBHB', vread, 2, 0, 0)
        seeds['negotiate-%x' % feat] = s
    return seeds


def virtqueue():
    req, kick, collect, wait, event = range(OP_TARGET, OP_TARGET + 5)
    seeds = {}
    for cfg in (0x00, 0x01, 0x3c, 0x3d, 0x3e, 0x3f, 0x2a, 0x35):
        s = bytes([cfg, 3])
        s += struct.pack('<BBQHBB', req, 1, 8, 4096, 1, 0) + bytes([kick])
        s += struct.pack('<BBQHBB', req, 0, 8, 4096, 2, 0) + bytes([kick])
        s += struct.pack('<BBQHBB', req, 2, 0, 0, 0, 1) + bytes([kick])
        s += struct.pack('<BBQHBB', req, 3, 0, 20, 0, 0) + bytes([kick])
        s += struct.pack('<BBQHBB', req, 4, 0, 16, 0, 0)
        s += struct.pack('<QII', 16, 8, 0)
        s += struct.pack('<BBQHBB', req, 5, 0, 16, 0, 1)
        s += struct.pack('<QII', 32, 8, 1) + bytes([kick])
        s += struct.pack('<BHH', event, 0, 3)
        s += bytes([wait])
        seeds['requests-%02x' % cfg] = s
    return seeds


def uring():
    sqe, kick, doorbell, reap, wait, reneg, cfgw, cqf = \
        range(OP_TARGET, OP_TARGET + 8)
    seeds = {}
    for setup in (7, 3):
        s = bytes([setup])
        for sel, length in ((1, 4096), (0, 4096), (3, 0), (2, 0)):
            s += struct.pack('<BBBQIIBHIQ', sqe, sel, 0, 8192, 0, length,
                             0, 0, 0, 0)
        s += bytes([kick, wait])
        s += struct.pack('<BB', reneg, setup)
        s += struct.pack('<BBBQIIBHIQ', sqe, 0, 0, 0, 0, 512, 0, 0, 0, 0)
        s += bytes([doorbell, wait])
        s += struct.pack('<BHBQ', cfgw, 0x90, 1, 0)
        s += struct.pack('<BI', cqf, 1)
        seeds['sqes-%d' % setup] = s
    return seeds


def main():
    for target, make in (('virtio-blk-pci', virtio_blk_pci),
                         ('virtqueue', virtqueue), ('uring', uring)):
        d = os.path.join(sys.argv[1], target)
        os.makedirs(d, exist_ok=True)
        for name, data in make().items():
            with open(os.path.join(d, 'structured-' + name), 'wb') as f:
                f.write(data)


if __name__ == '__main__':
    main()
