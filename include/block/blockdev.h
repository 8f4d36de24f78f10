/*
 * -blockdev: block nodes, as QEMU's -blockdev names and stacks them.
 *
 *   -blockdev driver=file,node-name=NAME,filename=PATH[,cache.direct=on|off]
 *             [,cache.no-flush=on|off][,aio=threads|io_uring|native]
 *             [,discard=ignore|unmap][,read-only=on|off]
 *             [,auto-read-only=on|off][,locking=on|off|auto]
 *   -blockdev driver=null-co,node-name=NAME[,size=BYTES][,read-zeroes=on|off]
 *   -blockdev driver=raw,node-name=NAME,file=NODE[,read-only=on|off]
 *             [,cache.direct=on|off][,cache.no-flush=on|off]
 *             [,discard=ignore|unmap]
 *
 * file and null-co nodes are protocol nodes: each opens a BlockBackend of
 * that name.  A raw node is a format node over one protocol node (its
 * file=) and adds no data layout: a device given its name uses the
 * protocol node's back-end, made read-only or flush-less as the raw node
 * says.  Each protocol node has at most one raw node over it.
 *
 * All of it runs in the main thread with the BQL held: nodes are created
 * (blockdev_create()) before devices, for -blockdev, or while the VM runs,
 * for QMP's blockdev-add; they are forgotten after the devices are gone
 * (blockdev_close_all()), or before, one by one, by blockdev-del
 * (blockdev_delete()).  A raw node is not made over a protocol node a
 * device already uses, and nothing a device uses is deleted.
 */
#ifndef BLOCK_BLOCKDEV_H
#define BLOCK_BLOCKDEV_H

#include "block/block-backend.h"
#include "qemu/option.h"

/* One -blockdev or blockdev-add: its options, from key=value or JSON. */
bool blockdev_create(QemuOpts *opts, GError **errp);
/*
 * blockdev-del: forget a node no device uses and no raw node is over.  A
 * raw node's file node is again what its own options made it; a protocol
 * node's back-end is closed (its image unlocked).
 */
bool blockdev_delete(const char *node_name, GError **errp);
/* Is there a node of that name? */
bool blockdev_node_exists(const char *node_name);
/* The back-end a device with drive=node_name uses, or NULL. */
BlockBackend *blockdev_backend(const char *node_name);
/*
 * Is the node itself read-only?  A raw node with read-only=on is, though
 * the writable file node below it, sharing its back-end, is not.
 */
bool blockdev_node_is_read_only(const char *node_name);
/*
 * The name of the node on top of blk, which a device with drive=NAME uses:
 * the raw node over blk's protocol node, or that node; NULL for a -drive.
 * *driver (if driver is not NULL) is set to that node's driver.
 */
const char *blockdev_top_node_name(BlockBackend *blk, const char **driver);
/* Call fn for every node, in the order they were made. */
void blockdev_foreach(void (*fn)(const char *node_name, const char *driver,
                                 BlockBackend *blk, void *opaque),
                      void *opaque);
/* Forget every node, once blk_destroy_all() has closed their back-ends. */
void blockdev_close_all(void);

#endif
