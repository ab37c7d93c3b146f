/* Little-endian fields at byte offsets in a page (VMSAs, VMCBs, firmware tables, file
 * formats): loads and stores without alignment or aliasing assumptions. The *_be ones are
 * big-endian (the TPM's byte order, the TCG simulator's socket protocol). */
#ifndef DONJON_BYTES_H
#define DONJON_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t load16(const void *page, size_t off)
{
	uint16_t v = 0;

	__builtin_memcpy(&v, (const uint8_t *)page + off, sizeof(v));
	return v;
}

static inline uint32_t load32(const void *page, size_t off)
{
	uint32_t v = 0;

	__builtin_memcpy(&v, (const uint8_t *)page + off, sizeof(v));
	return v;
}

static inline uint64_t load64(const void *page, size_t off)
{
	uint64_t v = 0;

	__builtin_memcpy(&v, (const uint8_t *)page + off, sizeof(v));
	return v;
}

static inline void store16(void *page, size_t off, uint16_t v)
{
	__builtin_memcpy((uint8_t *)page + off, &v, sizeof(v));
}

static inline void store32(void *page, size_t off, uint32_t v)
{
	__builtin_memcpy((uint8_t *)page + off, &v, sizeof(v));
}

static inline void store64(void *page, size_t off, uint64_t v)
{
	__builtin_memcpy((uint8_t *)page + off, &v, sizeof(v));
}

static inline uint16_t load16_be(const void *page, size_t off)
{
	return __builtin_bswap16(load16(page, off));
}

static inline uint32_t load32_be(const void *page, size_t off)
{
	return __builtin_bswap32(load32(page, off));
}

static inline void store32_be(void *page, size_t off, uint32_t v)
{
	store32(page, off, __builtin_bswap32(v));
}

#endif
