/* The launch policy's checks (core/migrate/policy.c) on their own: which sessions it
 * allows, and its verdict on a peer's report by launch digest (the policy's list, or its
 * own digest) and by each byte of the reported TCB. */
#include <string.h>

#include <donjon/bytes.h>
#include <donjon/migrate_host.h>

#include "harness.h"
#include "migrate/policy.h"

static void report_of(uint8_t report[SNP_REPORT_SIZE], uint8_t digest_byte, uint64_t tcb)
{
	memset(report, 0, SNP_REPORT_SIZE);
	memset(report + SNP_REPORT_MEASUREMENT_OFF, digest_byte, SNP_DIGEST_SIZE);
	store64(report, SNP_REPORT_REPORTED_TCB_OFF, tcb);
}

TEST(migrate_policy_sessions_by_role_and_mode)
{
	struct launch_migrate_policy p = { .flags = LAUNCH_MIGRATE_OUT | LAUNCH_MIGRATE_TEST_KEY };

	EXPECT_TRUE(mig_policy_refuses(&p, MIG_ROLE_SOURCE, MIG_MODE_TEST_KEY) == NULL);
	EXPECT_STR(mig_policy_refuses(&p, MIG_ROLE_DEST, MIG_MODE_TEST_KEY),
		   "the launch policy does not let a guest migrate in");
	EXPECT_STR(mig_policy_refuses(&p, MIG_ROLE_SOURCE, MIG_MODE_ATTESTED),
		   "the launch policy names no peer measurement to accept");
	EXPECT_STR(mig_policy_refuses(&p, MIG_ROLE_SOURCE, 3), "no such session mode");
	p.measurement_count = 1;
	EXPECT_TRUE(mig_policy_refuses(&p, MIG_ROLE_SOURCE, MIG_MODE_ATTESTED) == NULL);
	EXPECT_STR(mig_policy_refuses(&p, MIG_ROLE_SOURCE, MIG_MODE_TEST_KEY),
		   "the launch policy names the peer's measurement or TCB, which a test-key "
		   "session cannot attest");
	p.measurement_count = LAUNCH_MIGRATE_MEASUREMENTS + 1U;
	EXPECT_STR(mig_policy_refuses(&p, MIG_ROLE_SOURCE, MIG_MODE_ATTESTED),
		   "the launch policy is malformed");
	p.measurement_count = 0;
	p.flags |= 0x10U;
	EXPECT_STR(mig_policy_refuses(&p, MIG_ROLE_SOURCE, MIG_MODE_TEST_KEY),
		   "the launch policy is malformed");
}

TEST(migrate_policy_peer_by_digest_and_tcb)
{
	struct launch_migrate_policy p = { .flags = LAUNCH_MIGRATE_OUT,
					   .measurement_count = 2,
					   .min_tcb = 0x2B00000000000307ULL };
	uint8_t own[SNP_DIGEST_SIZE];
	uint8_t report[SNP_REPORT_SIZE];

	memset(own, 0xAA, sizeof(own));
	memset(p.measurements[0], 0x11, SNP_DIGEST_SIZE);
	memset(p.measurements[1], 0x22, SNP_DIGEST_SIZE);
	memset(p.measurements[2], 0x33, SNP_DIGEST_SIZE); /* beyond the count: not allowed */
	report_of(report, 0x22, 0x2B00000000000307ULL);
	EXPECT_TRUE(mig_policy_refuses_peer(&p, own, report) == NULL);
	report_of(report, 0x33, 0x2B00000000000307ULL);
	EXPECT_STR(mig_policy_refuses_peer(&p, own, report),
		   "the peer's launch digest is not one the launch policy accepts");
	/* Its own digest only with SAME_MEASUREMENT. */
	report_of(report, 0xAA, 0x2B00000000000307ULL);
	EXPECT_STR(mig_policy_refuses_peer(&p, own, report),
		   "the peer's launch digest is not one the launch policy accepts");
	p.flags |= LAUNCH_MIGRATE_SAME_MEASUREMENT;
	EXPECT_TRUE(mig_policy_refuses_peer(&p, own, report) == NULL);
	/* One digest byte off is another digest. */
	report[SNP_REPORT_MEASUREMENT_OFF + SNP_DIGEST_SIZE - 1U] ^= 1U;
	EXPECT_STR(mig_policy_refuses_peer(&p, own, report),
		   "the peer's launch digest is not one the launch policy accepts");
	/* Each TCB byte on its own: a higher microcode SVN does not make up for a lower SNP
	 * one. */
	report_of(report, 0x11, 0x2C00000000000306ULL);
	EXPECT_STR(mig_policy_refuses_peer(&p, own, report),
		   "the peer's reported TCB is below the launch policy's");
	report_of(report, 0x11, 0x2A00000000000307ULL);
	EXPECT_STR(mig_policy_refuses_peer(&p, own, report),
		   "the peer's reported TCB is below the launch policy's");
	report_of(report, 0x11, 0x2B00000000010307ULL);
	EXPECT_TRUE(mig_policy_refuses_peer(&p, own, report) == NULL);
}

TEST(migrate_policy_digest_covers_every_field)
{
	struct launch_migrate_policy a = { .flags = LAUNCH_MIGRATE_OUT }, b = a;
	uint8_t da[MIG_POLICY_DIGEST_SIZE], db[MIG_POLICY_DIGEST_SIZE];

	EXPECT_TRUE(mig_policy_digest(&a, da) && mig_policy_digest(&b, db));
	EXPECT_MEM(da, db, sizeof(da));
	b.min_tcb = 1;
	EXPECT_TRUE(mig_policy_digest(&b, db) && memcmp(da, db, sizeof(da)) != 0);
	b = a;
	b.measurements[3][47] = 1;
	EXPECT_TRUE(mig_policy_digest(&b, db) && memcmp(da, db, sizeof(da)) != 0);
	b = a;
	b.measurement_count = 1;
	EXPECT_TRUE(mig_policy_digest(&b, db) && memcmp(da, db, sizeof(da)) != 0);
}
