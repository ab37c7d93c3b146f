/* The RAM filesystem (ramfs.h). */
#include "ramfs.h"

#include "hostif.h"
#include "mm.h"
#include "linux_abi.h"

#define PAGE 4096U
#define FILE_MAX ((uint64_t)RAMFS_FILE_PAGES * PAGE)

void ramfs_init(struct ramfs *fs, uint64_t limit_pages)
{
	__builtin_memset(fs, 0, sizeof(*fs));
	fs->limit = limit_pages;
}

static void drop_pages(struct ramfs *fs, struct ramfs_file *f)
{
	for (unsigned i = 0; i < RAMFS_FILE_PAGES; i++) {
		if (f->page[i] != 0U) {
			pmm_free(f->page[i]);
			f->page[i] = 0;
			fs->pages--;
		}
	}
	f->size = 0;
}

void ramfs_clear(struct ramfs *fs)
{
	for (unsigned i = 0; i < RAMFS_FILES; i++) {
		drop_pages(fs, &fs->file[i]);
		fs->file[i].used = false;
	}
}

static bool name_is(const struct ramfs_file *f, const char *name)
{
	for (unsigned i = 0; i <= RAMFS_NAME_MAX; i++) {
		if (f->name[i] != name[i]) {
			return false;
		}
		if (name[i] == '\0') {
			return true;
		}
	}
	return false;
}

int ramfs_open(struct ramfs *fs, const char *name, bool create)
{
	size_t len = 0;
	int free_slot = -1;

	while (len <= RAMFS_NAME_MAX && name[len] != '\0') {
		len++;
	}
	if (len > RAMFS_NAME_MAX) {
		return -LINUX_ENAMETOOLONG;
	}
	for (unsigned i = 0; i < RAMFS_FILES; i++) {
		if (fs->file[i].used && name_is(&fs->file[i], name)) {
			return (int)i;
		}
		if (!fs->file[i].used && free_slot < 0) {
			free_slot = (int)i;
		}
	}
	if (!create) {
		return -LINUX_ENOENT;
	}
	if (len == 0U || free_slot < 0) {
		return len == 0U ? -LINUX_ENOENT : -LINUX_ENOSPC;
	}
	struct ramfs_file *f = &fs->file[free_slot];

	/* Pages a descriptor of an unlinked file wrote since: the new file starts empty. */
	drop_pages(fs, f);
	f->used = true;
	__builtin_memcpy(f->name, name, len + 1U);
	return free_slot;
}

int ramfs_unlink(struct ramfs *fs, const char *name)
{
	int f = ramfs_open(fs, name, false);

	if (f < 0) {
		return f;
	}
	drop_pages(fs, &fs->file[f]);
	fs->file[f].used = false;
	return 0;
}

void ramfs_truncate(struct ramfs *fs, int f)
{
	drop_pages(fs, &fs->file[f]);
}

uint64_t ramfs_size(const struct ramfs *fs, int f)
{
	return fs->file[f].size;
}

size_t ramfs_read(const struct ramfs *fs, int f, uint64_t off, void *buf, size_t len)
{
	const struct ramfs_file *file = &fs->file[f];
	uint8_t *out = buf;
	size_t done = 0;

	if (off >= file->size) {
		return 0;
	}
	if (len > file->size - off) {
		len = (size_t)(file->size - off);
	}
	while (done < len) {
		uint64_t at = off + done;
		size_t in_page = PAGE - (size_t)(at % PAGE);
		size_t n = len - done < in_page ? len - done : in_page;
		uint64_t pa = file->page[at / PAGE];
		const uint8_t *p = pa != 0U ? kernel_ptr(pa, PAGE) : NULL;

		if (p != NULL) {
			__builtin_memcpy(out + done, p + at % PAGE, n);
		} else {
			__builtin_memset(out + done, 0, n); /* a hole reads as zeros */
		}
		done += n;
	}
	return done;
}

size_t ramfs_write(struct ramfs *fs, int f, uint64_t off, const void *buf, size_t len)
{
	struct ramfs_file *file = &fs->file[f];
	const uint8_t *in = buf;
	size_t done = 0;

	if (off >= FILE_MAX) {
		return 0;
	}
	if (len > FILE_MAX - off) {
		len = (size_t)(FILE_MAX - off);
	}
	while (done < len) {
		uint64_t at = off + done;
		size_t in_page = PAGE - (size_t)(at % PAGE);
		size_t n = len - done < in_page ? len - done : in_page;
		uint64_t *pa = &file->page[at / PAGE];
		uint8_t *p = NULL;

		if (*pa == 0U) {
			if (fs->pages >= fs->limit || !pmm_alloc(pa)) {
				*pa = 0;
				break;
			}
			fs->pages++;
		}
		p = kernel_ptr(*pa, PAGE);
		if (p == NULL) {
			break;
		}
		__builtin_memcpy(p + at % PAGE, in + done, n);
		done += n;
	}
	if (done != 0U && off + done > file->size) {
		file->size = off + done;
	}
	return done;
}
