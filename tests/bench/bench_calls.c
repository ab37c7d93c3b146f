/* The workload `make bench` measures under callgrind: one kind of SVSM call, repeated,
 * made by a guest vCPU on the simulated machine. callgrind collects only inside
 * svsm_handle_exit, so machine set-up and the guest side are not counted.
 *
 *   bench-calls query ITER          QUERY_PROTOCOL
 *   bench-calls pvalidate N 4k|2m ITER   PVALIDATE of N entries, validate then rescind
 *   bench-calls attest ITER         SVSM_ATTEST_SERVICES as Linux makes it
 * Prints the number of SVSM calls made, then the wall time per call in nanoseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <donjon/svsm_abi.h>

#include "machine.h"

#define LIST_GPA (SIM_CAA_BASE + 8U)
#define PAGES_BASE 0x1000000ULL

static struct sim_machine *m;
static unsigned long calls;

static uint64_t call(uint64_t rax, uint64_t rcx)
{
	struct svsm_regs regs = { .rax = rax, .rcx = rcx };
	enum sim_call_status status = SIM_CALL_DONE;

	if (sim_vcpu_call(m, 0, &regs, &status) != NULL) {
		(void)fprintf(stderr, "bench-calls: call failed\n");
		exit(1);
	}
	calls++;
	return regs.rax;
}

/* One PVALIDATE list, repeated while the SVSM answers INCOMPLETE. */
static void pvalidate_list(unsigned n, bool size_2m, bool validate)
{
	uint64_t list[1 + SVSM_LIST_MAX_ENTRIES];
	uint64_t stride = size_2m ? PAGE_SIZE_2M : PAGE_SIZE;

	list[0] = n;
	for (unsigned i = 0; i < n; i++) {
		list[1 + i] = (PAGES_BASE + (uint64_t)i * stride) | (size_2m ? 1U : 0U) |
			      (validate ? PVAL_ENTRY_VALIDATE : 0U);
	}
	if (sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(LIST_GPA), list, (size_t)(1 + n) * 8U) !=
	    NULL) {
		exit(1);
	}
	uint64_t r = SVSM_ERR_INCOMPLETE;

	while (r == SVSM_ERR_INCOMPLETE) {
		r = call(SVSM_CORE_PVALIDATE, LIST_GPA);
	}
	if (r != SVSM_SUCCESS) {
		(void)fprintf(stderr, "bench-calls: PVALIDATE answered 0x%llx\n",
			      (unsigned long long)r);
		exit(1);
	}
}

/* The attestation call's buffers: report, manifest, and the nonce's page, validated once. */
static void attest_prepare(void)
{
	uint8_t nonce[SVSM_ATTEST_NONCE_SIZE];

	pvalidate_list(3, false, true);
	for (unsigned i = 0; i < sizeof(nonce); i++) {
		nonce[i] = (uint8_t)i;
	}
	if (sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(PAGES_BASE + 2U * PAGE_SIZE), nonce,
			    sizeof(nonce)) != NULL) {
		exit(1);
	}
}

static void attest(void)
{
	struct svsm_attest_services_op op = {
		.report_gpa = PAGES_BASE,
		.report_size = PAGE_SIZE,
		.nonce_gpa = PAGES_BASE + 2U * PAGE_SIZE,
		.nonce_size = SVSM_ATTEST_NONCE_SIZE,
		.manifest_gpa = PAGES_BASE + PAGE_SIZE,
		.manifest_size = PAGE_SIZE,
	};

	if (sim_guest_write(m, SIM_GUEST_VMPL, gpa_init(LIST_GPA), &op, sizeof(op)) != NULL ||
	    call(((uint64_t)SVSM_PROTOCOL_ATTEST << 32) | SVSM_ATTEST_SERVICES, LIST_GPA) !=
		    SVSM_SUCCESS) {
		(void)fprintf(stderr, "bench-calls: SVSM_ATTEST_SERVICES failed\n");
		exit(1);
	}
}

static double now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	char err[128];
	bool query = argc == 3 && strcmp(argv[1], "query") == 0;
	bool pval = argc == 5 && strcmp(argv[1], "pvalidate") == 0;
	bool att = argc == 3 && strcmp(argv[1], "attest") == 0;

	if (!query && !pval && !att) {
		(void)fprintf(stderr, "usage: bench-calls query ITER | pvalidate N 4k|2m ITER |"
				      " attest ITER\n");
		return 2;
	}
	unsigned long iter = strtoul(argv[argc - 1], NULL, 0);
	unsigned n = pval ? (unsigned)strtoul(argv[2], NULL, 0) : 0;
	bool size_2m = pval && strcmp(argv[3], "2m") == 0;

	if (n > 510U) {
		return 2;
	}
	m = sim_create(size_2m ? 2048ULL << 20 : 256ULL << 20, 1, err, sizeof(err));
	if (m == NULL) {
		(void)fprintf(stderr, "bench-calls: %s\n", err);
		return 1;
	}
	for (unsigned i = 0; size_2m && i < n; i++) {
		(void)sim_host_psc(m, gpa_init(PAGES_BASE + (uint64_t)i * PAGE_SIZE_2M), PAGE_2M,
				   PSC_PRIVATE);
	}
	if (att) {
		attest_prepare();
		calls = 0;
	}
	double t0 = now();

	for (unsigned long i = 0; i < iter; i++) {
		if (att) {
			attest();
		} else if (query) {
			(void)call(SVSM_CORE_QUERY_PROTOCOL, 1);
		} else {
			pvalidate_list(n, size_2m, true);
			pvalidate_list(n, size_2m, false);
		}
	}
	double elapsed = now() - t0;

	printf("%lu %.0f\n", calls, calls != 0U ? elapsed / (double)calls : 0.0);
	sim_destroy(m);
	return 0;
}
