/* A service's RAM filesystem: a flat set of named files (a name is the whole path the
 * service opened, "/state/permall"), their bytes in pages of the kernel's allocator, for
 * as long as the service runs. No directories, links or renames: what libtpms's NV
 * callbacks and a static program's stdio need. */
#ifndef KERNEL_SERVICE_RAMFS_H
#define KERNEL_SERVICE_RAMFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAMFS_FILES 8U
#define RAMFS_NAME_MAX 63U
/* 256 KiB a file: more than the TPM's whole NV (service_channel.h). */
#define RAMFS_FILE_PAGES 64U

struct ramfs_file {
	bool used;
	char name[RAMFS_NAME_MAX + 1U];
	uint64_t size;
	uint64_t page[RAMFS_FILE_PAGES]; /* physical, 0 where nothing was written */
};

struct ramfs {
	struct ramfs_file file[RAMFS_FILES];
	uint64_t pages, limit;
};

void ramfs_init(struct ramfs *fs, uint64_t limit_pages);
/* Every file removed, its pages freed. */
void ramfs_clear(struct ramfs *fs);
/* The file called name: its index, or -ENOENT (or, with create, a new empty file; -ENOSPC
 * when the table is full, -ENAMETOOLONG). */
int ramfs_open(struct ramfs *fs, const char *name, bool create);
int ramfs_unlink(struct ramfs *fs, const char *name);
void ramfs_truncate(struct ramfs *fs, int f);
uint64_t ramfs_size(const struct ramfs *fs, int f);
/* At most len bytes at off into buf; the count (0 at or past the end). */
size_t ramfs_read(const struct ramfs *fs, int f, uint64_t off, void *buf, size_t len);
/* len bytes at off; the count written, less than len (perhaps 0) when the file's size
 * limit or the page limit is reached. */
size_t ramfs_write(struct ramfs *fs, int f, uint64_t off, const void *buf, size_t len);

#endif
