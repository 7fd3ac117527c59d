/* tools/rvm/cmd_journal.c - `rvm journal RUNDIR`: list a run's journal; --check replays every agent
 * life from its journaled inputs and compares its memory with the digests recorded live. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_replay.h"
#include "cmd.h"
#include "logfile.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: rvm journal RUNDIR [--check] [--agent N] [--verbose]\n"
		"  Lists the journal of a run directory (rvm run). --check replays every\n"
		"  agent life (from its module, or from its snapshot in a checkpoint after a\n"
		"  recovery) with its journaled inputs and compares its memory with each digest\n"
		"  the live kernel recorded (exit 1 on a mismatch).\n");
	return 2;
}

static void show_point(void *ctx, uint32_t agent, const struct ar_point *p)
{
	if (*(bool *)ctx && p->match)
		printf("  agent %u seq %" PRIu64 ": fuel %" PRIu64 " memory digest matches\n",
		       agent, p->digest->seq, p->fuel);
}

/* Every life of every agent (or of `only`), in journal order. */
static int check_all(struct ar_run *run, long only, bool verbose)
{
	uint64_t digests = 0, lives = 0, resumed = 0;

	for (size_t i = 0; i < run->count; i++) {
		const struct rvm_journal_entry *e = &run->ents[i];
		struct ar_life l;
		int got;

		if (!ar_is_start(e) || (only >= 0 && e->agent != (uint32_t)only))
			continue;
		if (ar_life_collect(run, i, &l) != 0)
			return 2;
		got = l.digest.n ? ar_replay(run, &l, NULL, UINT64_MAX, show_point, &verbose) : 0;
		ar_life_free(&l);
		if (got < 0)
			return 1;
		if (got) {
			digests += (uint64_t)got, lives++;
			resumed += e->kind == RVM_JK_RESUME;
		}
	}
	printf("replay: %" PRIu64 " digests over %" PRIu64
	       " agent lives match the live run (%" PRIu64
	       " of them resumed from a checkpoint's snapshot)\n",
	       digests, lives, resumed);
	if (digests == 0) {
		printf("replay: the journal holds no digests to check\n");
		return 1;
	}
	return 0;
}

int rvm_cmd_journal(int argc, char **argv)
{
	const char *dir = NULL;
	bool check = false, verbose = false;
	long only = -1;
	struct ar_run run;
	int rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--check"))
			check = true;
		else if (!strcmp(argv[i], "--verbose"))
			verbose = true;
		else if (!strcmp(argv[i], "--agent") && i + 1 < argc) {
			uint64_t v;

			if (!rvm_tool_parse_u64(argv[++i], false, &v) || v >= RVM_AGENT_MAX) {
				fprintf(stderr,
					"rvm journal: --agent '%s': want an agent number, 0 to "
					"%u\n",
					argv[i], RVM_AGENT_MAX - 1);
				return 2;
			}
			only = (long)v;
		} else if (argv[i][0] != '-' && !dir)
			dir = argv[i];
		else
			return usage();
	}
	if (!dir)
		return usage();
	if (ar_open(&run, dir) != 0) {
		fprintf(stderr, "rvm journal: cannot read the journal of %s\n", dir);
		ar_close(&run);
		return 2;
	}
	if (run.bad_hash) {
		printf("entry at seq %" PRIu64 ": payload does not match its hash (%zu such)\n",
		       run.first_bad, run.bad_hash);
		rc = 1;
	}
	printf("rvm journal: %s/journal.log: %zu entries (recv %zu, now %zu, spawn %zu, send %zu, "
	       "start %zu, digest %zu, gpu %zu, resume %zu, region write %zu)%s\n",
	       dir, run.count, run.kinds[RVM_JK_RECV], run.kinds[RVM_JK_NOW],
	       run.kinds[RVM_JK_SPAWN], run.kinds[RVM_JK_SEND], run.kinds[RVM_JK_START],
	       run.kinds[RVM_JK_DIGEST], run.kinds[RVM_JK_GPU], run.kinds[RVM_JK_RESUME],
	       run.kinds[RVM_JK_REGION_WRITE],
	       run.end == RVM_E_TRUNCATED ? ", torn tail ignored" : "");
	if (run.end == RVM_E_CORRUPT) {
		printf("corrupt entry after %zu good ones\n", run.count);
		rc = 1;
	}
	/* Every entry against the record that binds it in the run's verified witness log. */
	if (check && rc == 0)
		rc = rvm_tool_journal_bind(dir, run.jbuf, run.jlen);
	if (check && rc == 0)
		rc = check_all(&run, only, verbose);
	ar_close(&run);
	return rc;
}
