/* Calls from several vCPUs at once leave the page tracking and the RMP consistent. */
#include <pthread.h>

#include "helpers.h"

#define THREADS 4
#define ROUNDS 200
#define SHARED_BASE 0x1000000ULL
#define PRIVATE_BASE 0x2000000ULL

struct worker {
	struct sim_machine *m;
	unsigned vcpu;
	unsigned errors;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t list = SIM_CAA_BASE + w->vcpu * PAGE_SIZE + 8;
	uint64_t mine = PRIVATE_BASE + (uint64_t)w->vcpu * 0x100000;

	for (unsigned r = 0; r < ROUNDS; r++) {
		/* Everyone fights over the same 8 pages (ignore_cf), and each vCPU toggles 8
		 * pages of its own. */
		bool validate = (r % 2U) == 0U;
		uint64_t e[16];
		struct svsm_list_hdr hdr = { .entries = 16, .next = 0, .reserved = 0 };

		for (unsigned i = 0; i < 8; i++) {
			e[i] = t_pval(SHARED_BASE + ((r + i) % 8U) * PAGE_SIZE, false,
				      ((r + w->vcpu + i) % 2U) == 0U, true);
			e[8 + i] = t_pval(mine + i * PAGE_SIZE, false, validate, false);
		}
		if (sim_guest_write(w->m, 2, gpa_init(list), &hdr, sizeof(hdr)) != NULL ||
		    sim_guest_write(w->m, 2, gpa_init(list + 8), e, sizeof(e)) != NULL ||
		    t_call(w->m, w->vcpu, CORE(SVSM_CORE_PVALIDATE), list, 0, 0, NULL) !=
			    SVSM_SUCCESS) {
			w->errors++;
		}
	}
	return NULL;
}

TEST(concurrent_pvalidate_from_four_vcpus)
{
	struct sim_machine *m = t_machine(64ULL << 20, THREADS);
	pthread_t th[THREADS];
	struct worker w[THREADS];

	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .m = m, .vcpu = i, .errors = 0 };
		EXPECT_EQ(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		EXPECT_EQ(pthread_join(th[i], NULL), 0);
		EXPECT_EQ(w[i].errors, 0);
		/* ROUNDS is even: the last round rescinded each vCPU's own pages. */
		EXPECT_TRUE(!t_rmp(m, PRIVATE_BASE + (uint64_t)i * 0x100000).validated);
	}
	EXPECT_TRUE(t_tracking_matches_rmp(m));
	sim_destroy(m);
}
