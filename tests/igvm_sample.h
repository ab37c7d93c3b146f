/* A small valid IGVM file for the parser's tests and fuzzer: SNP (mask 1) and native
 * (mask 2) platforms, four pages (two identical, one zero), a parameter area with a VP
 * count and an insert, and an SNP VP context (a VMSA KVM accepts). */
#ifndef TESTS_IGVM_SAMPLE_H
#define TESTS_IGVM_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNP_MASK 0x1U
#define NATIVE_MASK 0x2U

/* *buf is malloc'd. */
bool igvm_sample_build(uint8_t **buf, size_t *len);

#endif
