/* tests/unit/test_replay_cli.c - a real run directory (hosted sinks and store), replayed by `rvm
 * replay`. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <hosted.h>
#include <rvm/bytes.h>
#include <rvm/checkpoint.h>
#include <rvm/journal.h>
#include <rvm/region.h>

#define ARENA	(8u << 20)
#define NFRAMES (ARENA / 4096u)
/* The journal's entry kind for region writes (docs/journal.md). */
#define JK_REGION_WRITE RVM_JK_REGION_WRITE

struct runk {
	struct rvm_hosted hosted;
	struct rvm_platform plat;
	struct rvm_witness_log wlog;
	struct rvm_buddy buddy;
	struct rvm_buddy_frame bframes[NFRAMES];
	struct rvm_region_frame rframes[NFRAMES];
	struct rvm_region_store store;
	struct rvm_region_space space;
	struct rvm_ckpt_ctx ck;
	uint8_t store_buf[1u << 20];
	uint8_t *arena;
	uint8_t ckbuf[4u << 20];
};

/* Journal entries in the journal file's format, appended through the platform's sink. */
static void journal_write(void *ctx, uint64_t seq, rvm_region_id id, uint64_t offset,
			  const uint8_t *data, uint32_t len)
{
	struct runk *k = ctx;
	uint8_t head[32] = {0}, h[32], pad[8] = {0};

	(void)id;
	(void)offset;
	rvm_store_le64(head, seq);
	rvm_store_le16(head + 12, JK_REGION_WRITE);
	rvm_store_le32(head + 16, len);
	rvm_sha256(NULL, data, len, h);
	memcpy(head + 24, h, 8);
	assert_int_equal(rvm_platform_sink_append(&k->plat, RVM_SINK_JOURNAL, head, 32), RVM_OK);
	assert_int_equal(rvm_platform_sink_append(&k->plat, RVM_SINK_JOURNAL, data, len), RVM_OK);
	if (len % 8)
		assert_int_equal(
			rvm_platform_sink_append(&k->plat, RVM_SINK_JOURNAL, pad, 8 - len % 8),
			RVM_OK);
}

static struct runk *run_open(const char *dir)
{
	struct runk *k = calloc(1, sizeof(*k));
	struct rvm_witness_config cfg;
	struct rvm_phys_range r;
	uint8_t hdr[16] = "RVM-JOURNAL";

	assert_non_null(k);
	assert_int_equal(
		rvm_hosted_open(&k->hosted, dir, RVM_HOSTED_TRUNCATE | RVM_HOSTED_QUIET, &k->plat),
		RVM_OK);
	memset(&cfg, 0, sizeof(cfg));
	cfg.chain = RVM_CHAIN_SHA256;
	cfg.sig = RVM_SIG_NONE;
	cfg.checkpoint_every = 256;
	assert_int_equal(rvm_witness_init(&k->wlog, &k->plat, &cfg), RVM_OK);
	rvm_store_le32(hdr + 12, 1);
	assert_int_equal(rvm_platform_sink_append(&k->plat, RVM_SINK_JOURNAL, hdr, 16), RVM_OK);
	k->arena = aligned_alloc(4u << 20, ARENA);
	assert_non_null(k->arena);
	r.base = (uint64_t)(uintptr_t)k->arena;
	r.size = ARENA;
	assert_int_equal(rvm_buddy_init(&k->buddy, k->bframes, NFRAMES, &r, 1), RVM_OK);
	rvm_region_store_init(&k->store, k->store_buf, sizeof(k->store_buf));
	assert_int_equal(rvm_region_space_init(&k->space, &k->buddy, k->rframes, NFRAMES, &k->store,
					       &k->wlog, &k->plat),
			 RVM_OK);
	k->space.journal = journal_write;
	k->space.journal_ctx = k;
	k->ck.regions = &k->space;
	return k;
}

static void run_close(struct runk *k)
{
	assert_int_equal(rvm_witness_close(&k->wlog), RVM_OK);
	rvm_hosted_close(&k->hosted);
	free(k->arena);
	free(k);
}

static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* What the workload did to region 0, for `rvm query --changed`. */
static rvm_region_id region0;
static uint64_t region0_writes, region0_bytes, region0_first_ns;

/* A workload on partitions 1 and 2 with checkpoints, tier moves, transfers and live digests. */
static int workload(struct runk *k)
{
	rvm_region_id ids[6];
	uint64_t rnd = 5;
	uint8_t buf[3000], d[32];
	int digests = 0;

	for (int i = 0; i < 6; i++)
		assert_int_equal(rvm_region_create(&k->space, 0, 1 + (uint32_t)i % 2,
						   8192u << (i % 3), RVM_REGION_DATA, true, 0,
						   &ids[i]),
				 RVM_OK);
	for (int step = 0; step < 400; step++) {
		int i = (int)(rvm_test_rand(&rnd) % 6);
		const struct rvm_region *r = rvm_region_get(&k->space, ids[i]);
		uint32_t len = 1 + (uint32_t)(rvm_test_rand(&rnd) % sizeof(buf));
		uint64_t dice = rvm_test_rand(&rnd) % 20;

		if (dice < 12 && r->tier <= RVM_TIER_WARM) {
			rvm_test_fill(&rnd, buf, len);
			memset(buf, 'a' + i, len / 3);
			uint64_t seq;

			assert_int_equal(
				rvm_region_write(&k->space, r->owner, 20 + (uint32_t)i, ids[i],
						 rvm_test_rand(&rnd) % (rvm_region_size(r) - len),
						 buf, len, &seq),
				RVM_OK);
			if (i == 0) {
				if (!region0_writes++)
					region0_first_ns = rvm_witness_get(&k->wlog, seq)->time_ns;
				region0_bytes += len;
			}
		} else if (dice < 14) {
			assert_int_equal(rvm_region_set_tier(&k->space, 0, ids[i],
							     r->tier <= RVM_TIER_WARM
								     ? RVM_TIER_COLD
								     : RVM_TIER_HOT),
					 RVM_OK);
		} else if (dice < 15) {
			assert_int_equal(rvm_region_transfer(&k->space, 0, ids[i], 3 - r->owner),
					 RVM_OK);
		} else if (dice < 17) {
			assert_int_equal(rvm_checkpoint_take(&k->ck, 1 + (uint32_t)(dice % 2), NULL,
							     0, k->ckbuf, sizeof(k->ckbuf), NULL),
					 RVM_OK);
		} else {
			assert_int_equal(rvm_partition_digest_record(&k->space,
								     1 + (uint32_t)(dice % 2), NULL,
								     NULL, d, NULL),
					 RVM_OK);
			digests++;
		}
	}
	region0 = ids[0];
	return digests;
}

/* `rvm query --changed R`: the agent that wrote region 0, its write count and bytes, from the log.
 */
static void check_query(const char *bin, const char *run, const char *dir)
{
	char out[700];
	size_t len = 0;
	char *txt;
	cJSON *j, *agents, *a;

	snprintf(out, sizeof(out), "%s/q.json", dir);
	assert_int_equal(sh("%s query %s/witness.log --changed 0x%llx --json > %s", bin, run,
			    (unsigned long long)region0, out),
			 0);
	txt = rvm_test_read_file(out, &len);
	assert_non_null(txt);
	j = cJSON_Parse(txt);
	assert_non_null(j);
	agents = cJSON_GetObjectItem(j, "agents");
	assert_true(cJSON_GetArraySize(agents) >= 1);
	/* Agent 20 alone wrote it, on behalf of whichever partition owned it at the time. */
	{
		uint64_t writes = 0, bytes = 0;

		cJSON_ArrayForEach(a, agents)
		{
			assert_int_equal(cJSON_GetObjectItem(a, "agent")->valueint, 20);
			writes += (uint64_t)cJSON_GetObjectItem(a, "writes")->valuedouble;
			bytes += (uint64_t)cJSON_GetObjectItem(a, "bytes")->valuedouble;
		}
		assert_true(writes == region0_writes);
		assert_true(bytes == region0_bytes);
	}
	cJSON_Delete(j);
	free(txt);
	/* A window that ends before the first write: nobody changed it then. */
	assert_int_equal(sh("%s query %s/witness.log --changed 0x%llx --to %llu --json > %s", bin,
			    run, (unsigned long long)region0,
			    (unsigned long long)region0_first_ns - 1, out),
			 0);
	txt = rvm_test_read_file(out, &len);
	j = cJSON_Parse(txt);
	assert_non_null(j);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "agents")), 0);
	cJSON_Delete(j);
	free(txt);
	assert_int_equal(sh("%s query %s/witness.log --changed nope 2>/dev/null", bin, run), 2);
}

static void test_rvm_replay_on_run_directory(void **state)
{
	const char *bin = getenv("RVM_BIN");
	char dir[] = "/tmp/rvm-replay-XXXXXX", run[600], out[700];
	struct runk *k;
	int digests;
	size_t len = 0;
	char *txt;

	(void)state;
	if (!bin) {
		printf("SKIP: RVM_BIN not set (run through ctest)\n");
		skip();
	}
	assert_non_null(mkdtemp(dir));
	snprintf(run, sizeof(run), "%s/run", dir);
	k = run_open(run);
	digests = workload(k);
	assert_true(digests > 20);
	run_close(k);
	check_query(bin, run, dir);
	/* Every live digest of both partitions equals the replayed one. */
	snprintf(out, sizeof(out), "%s/out.txt", dir);
	assert_int_equal(sh("%s replay %s --partition 1 --check > %s", bin, run, out), 0);
	txt = rvm_test_read_file(out, &len);
	assert_non_null(txt);
	assert_non_null(strstr(txt, " differ"));
	assert_non_null(strstr(txt, ", 0 differ"));
	free(txt);
	assert_int_equal(sh("%s replay %s --partition 2 --check > /dev/null", bin, run), 0);
	/* One seq, with its regions dumped. */
	assert_int_equal(
		sh("%s replay %s --partition 1 --seq 300 --dump %s/dump > %s", bin, run, dir, out),
		0);
	txt = rvm_test_read_file(out, &len);
	assert_non_null(txt);
	assert_non_null(strstr(txt, "digest "));
	assert_non_null(strstr(txt, "region 0x"));
	free(txt);
	assert_int_equal(sh("ls %s/dump/region-*.bin > /dev/null", dir), 0);
	assert_int_equal(
		sh("%s replay %s --partition 1 --seq 300 --json | grep -q '\"digest\"'", bin, run),
		0);
	/* The journal reader of the swarm knows region writes (kind 8): listed, not agent input. */
	assert_int_equal(sh("%s journal %s > %s", bin, run, out), 0);
	txt = rvm_test_read_file(out, &len);
	assert_non_null(txt);
	assert_null(strstr(txt, "region write 0)"));
	assert_non_null(strstr(txt, "region write "));
	assert_non_null(strstr(txt, "start 0, digest 0, gpu 0, resume 0"));
	free(txt);
	/* Bad usage and input: exit 2 with a message, never a crash. */
	assert_int_equal(sh("%s replay %s --partition 1 2>/dev/null", bin, run), 2);
	assert_int_equal(sh("%s replay %s --partition 5000 --seq 1 2>/dev/null", bin, run), 2);
	assert_int_equal(sh("%s replay %s --partition 1 --seq 99999999 2>/dev/null", bin, run), 2);
	assert_int_equal(sh("%s replay %s/nope --partition 1 --seq 1 2>/dev/null", bin, dir), 2);
	/* Edited journal payloads no longer match the signed chain: a finding (exit 1). */
	snprintf(out, sizeof(out), "%s/journal.log", run);
	txt = rvm_test_read_file(out, &len);
	assert_non_null(txt);
	for (size_t pos = 16; pos + 32 <= len;) {
		uint32_t n = rvm_load_le32((const uint8_t *)txt + pos + 16);

		txt[pos + 32] ^= 0x20;
		pos += 32 + ((n + 7u) & ~7u);
	}
	{
		FILE *f = fopen(out, "wb");

		assert_non_null(f);
		assert_int_equal(fwrite(txt, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
	}
	free(txt);
	assert_int_equal(sh("%s replay %s --partition 1 --check > /dev/null 2>&1", bin, run), 1);
	assert_int_equal(sh("rm -rf %s", dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rvm_replay_on_run_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
