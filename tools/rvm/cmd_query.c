/* tools/rvm/cmd_query.c - `rvm query LOG`: who did what to X between T1 and T2, as a table or JSON. */
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rvm/witness_file.h>

#include "cmd.h"
#include "logfile.h"

/* Filters combine with AND; an unset filter matches everything. */
struct query {
	bool has_actor, has_target, has_action, json, has_changed;
	uint32_t actor;
	uint64_t target, from, to;
	uint16_t action;
	uint64_t matched;
	/* --changed R: who changed region R (its owner followed through the log) */
	uint64_t region;
	uint64_t owner; /* UINT64_MAX until the region's creation or a transfer is seen */
	struct changer {
		uint32_t agent, partition;
		uint64_t writes, bytes, first_seq, last_seq;
	} who[64];
	uint32_t nwho, more_who;
	uint64_t restores, transfers;
};

static int usage(void)
{
	fprintf(stderr,
		"usage: rvm query LOG [--actor P] [--target X] [--action NAME] [--from T] [--to T]\n"
		"                     [--json] [--pub FILE] [--hmac-key FILE]\n"
		"       rvm query LOG --changed R [--from T] [--to T] [--json]\n"
		"  Lists the records that match every filter given. NAME is a dotted action\n"
		"  name (e.g. cap.grant); T is ns since boot, a plain number or with a unit\n"
		"  (ns, us, ms, s); --from and --to are inclusive. Records are verified while read.\n"
		"  --changed R: which agents changed region R (id) between T1 and T2: its writes,\n"
		"  transfers and rollbacks, then a summary per agent, from the log alone.\n");
	return 2;
}

static int bad_value(const char *opt, const char *val)
{
	fprintf(stderr, "rvm query: %s: bad value for %s: '%s'\n", rvm_err_name(RVM_E_INVAL), opt,
		val);
	return 2;
}

static int parse_one(struct query *q, const char *opt, const char *val)
{
	uint64_t v;

	if (!strcmp(opt, "--action")) {
		q->has_action = true;
		if (rvm_action_parse(val, &q->action) == RVM_OK)
			return 0;
		if (rvm_tool_parse_u64(val, false, &v) && v <= UINT16_MAX) {
			q->action = (uint16_t)v;
			return 0;
		}
		fprintf(stderr, "rvm query: %s: unknown action '%s' (dotted names, e.g. cap.grant)\n",
			rvm_err_name(RVM_E_NOTFOUND), val);
		return 2;
	}
	if (!rvm_tool_parse_u64(val, !strcmp(opt, "--from") || !strcmp(opt, "--to"), &v))
		return bad_value(opt, val);
	if (!strcmp(opt, "--actor")) {
		if (v > UINT32_MAX)
			return bad_value(opt, val);
		q->has_actor = true;
		q->actor = (uint32_t)v;
	} else if (!strcmp(opt, "--changed")) {
		q->has_changed = true;
		q->region = v;
	} else if (!strcmp(opt, "--target")) {
		q->has_target = true;
		q->target = v;
	} else if (!strcmp(opt, "--from")) {
		q->from = v;
	} else {
		q->to = v;
	}
	return 0;
}

static const char *const value_opts[] = { "--actor", "--target", "--action", "--from", "--to",
					  "--pub", "--hmac-key", "--changed" };

static int parse(int argc, char **argv, struct query *q, const char **log, const char **pub,
		 const char **hmac)
{
	memset(q, 0, sizeof(*q));
	q->to = UINT64_MAX;
	q->owner = UINT64_MAX;
	for (int i = 1; i < argc; i++) {
		bool took = false;

		for (size_t k = 0; k < sizeof(value_opts) / sizeof(value_opts[0]) && !took; k++) {
			if (strcmp(argv[i], value_opts[k]) != 0)
				continue;
			if (i + 1 >= argc)
				return usage();
			took = true;
			if (k == 5)
				*pub = argv[++i];
			else if (k == 6)
				*hmac = argv[++i];
			else if (parse_one(q, argv[i], argv[i + 1]) != 0)
				return 2;
			else
				i++;
		}
		if (took)
			continue;
		if (!strcmp(argv[i], "--json"))
			q->json = true;
		else if (argv[i][0] != '-' && !*log)
			*log = argv[i];
		else
			return usage();
	}
	if (!*log)
		return usage();
	if (q->from > q->to) {
		fprintf(stderr, "rvm query: %s: --from is after --to\n", rvm_err_name(RVM_E_RANGE));
		return 2;
	}
	return 0;
}

static bool matches(const struct query *q, const struct rvm_witness_record *r)
{
	return (!q->has_actor || r->actor == q->actor) && (!q->has_target || r->target == q->target) &&
	       (!q->has_action || r->action == q->action) && r->time_ns >= q->from &&
	       r->time_ns <= q->to;
}

/* ---- --changed R ---- */

static void count_write(struct query *q, const struct rvm_witness_record *r)
{
	uint32_t agent = (uint32_t)(r->arg0 >> 32);
	struct changer *c = NULL;

	for (uint32_t i = 0; i < q->nwho && !c; i++)
		if (q->who[i].agent == agent && q->who[i].partition == r->actor)
			c = &q->who[i];
	if (!c) {
		if (q->nwho == sizeof(q->who) / sizeof(q->who[0])) {
			q->more_who++;
			return;
		}
		c = &q->who[q->nwho++];
		c->agent = agent;
		c->partition = r->actor;
		c->first_seq = r->seq;
	}
	c->writes++;
	c->bytes += r->arg1 & 0xFFFFFFu;
	c->last_seq = r->seq;
}

/* One change of region R, printed; returns false for records that do not change R. */
static bool change_line(struct query *q, const struct rvm_witness_record *r, bool in_window)
{
	const char *what = rvm_action_name(r->action);
	char detail[96];

	if (r->flags & RVM_WF_DENIED)
		return false;
	switch (r->action) {
	case RVM_ACT_REGION_CREATE:
	case RVM_ACT_REGION_DESTROY:
	case RVM_ACT_REGION_TRANSFER:
	case RVM_ACT_REGION_WRITE:
		if (r->target != q->region)
			return false;
		break;
	case RVM_ACT_STATE_RESTORE:
		/* A rollback of the partition that owns R rewrites R. */
		if (q->owner == UINT64_MAX || r->target != q->owner)
			return false;
		break;
	default:
		return false;
	}
	if (r->action == RVM_ACT_REGION_CREATE)
		q->owner = r->arg0 & 0xFFFFFFFFu;
	if (r->action == RVM_ACT_REGION_TRANSFER)
		q->owner = r->arg1;
	if (!in_window)
		return true;
	if (r->action == RVM_ACT_REGION_WRITE) {
		count_write(q, r);
		snprintf(detail, sizeof(detail), "agent %u wrote %" PRIu64 " bytes at %" PRIu64,
			 (unsigned)(r->arg0 >> 32), r->arg1 & 0xFFFFFFu, r->arg0 & 0xFFFFFFFFu);
	} else if (r->action == RVM_ACT_REGION_TRANSFER) {
		q->transfers++;
		snprintf(detail, sizeof(detail), "owner %" PRIu64 " -> %" PRIu64, r->arg0, r->arg1);
	} else if (r->action == RVM_ACT_STATE_RESTORE) {
		q->restores++;
		snprintf(detail, sizeof(detail), "partition %" PRIu64 " rolled back to checkpoint 0x%"
			 PRIx64, r->target, r->arg0);
	} else {
		snprintf(detail, sizeof(detail), "owner %" PRIu64, q->owner);
	}
	if (q->json)
		printf("%s\n  {\"seq\": %" PRIu64 ", \"time_ns\": %" PRIu64 ", \"action\": \"%s\", "
		       "\"partition\": %" PRIu32 ", \"agent\": %" PRIu64 ", \"detail\": \"%s\"}",
		       q->matched ? "," : "", r->seq, r->time_ns, what, r->actor,
		       r->action == RVM_ACT_REGION_WRITE ? r->arg0 >> 32 : 0, detail);
	else
		printf("%10" PRIu64 " %16" PRIu64 "  %-20s %9" PRIu32 "  %s\n", r->seq, r->time_ns,
		       what, r->actor, detail);
	q->matched++;
	return true;
}

static void changed_record(void *ctx, const struct rvm_witness_record *r)
{
	struct query *q = ctx;

	(void)change_line(q, r, r->time_ns >= q->from && r->time_ns <= q->to);
}

static void changed_summary(const struct query *q)
{
	if (q->json) {
		printf("%s],\n \"agents\": [", q->matched ? "\n" : "");
		for (uint32_t i = 0; i < q->nwho; i++)
			printf("%s{\"agent\": %u, \"partition\": %u, \"writes\": %" PRIu64
			       ", \"bytes\": %" PRIu64 ", \"first_seq\": %" PRIu64
			       ", \"last_seq\": %" PRIu64 "}",
			       i ? ", " : "", q->who[i].agent, q->who[i].partition, q->who[i].writes,
			       q->who[i].bytes, q->who[i].first_seq, q->who[i].last_seq);
		printf("], \"transfers\": %" PRIu64 ", \"rollbacks\": %" PRIu64 "}\n", q->transfers,
		       q->restores);
		return;
	}
	printf("region 0x%016" PRIx64 ": %u agent(s) changed it in the window", q->region, q->nwho);
	printf(" (%" PRIu64 " transfers, %" PRIu64 " rollbacks)\n", q->transfers, q->restores);
	for (uint32_t i = 0; i < q->nwho; i++)
		printf("  agent %u of partition %u: %" PRIu64 " writes, %" PRIu64
		       " bytes, seq %" PRIu64 "..%" PRIu64 "\n",
		       q->who[i].agent, q->who[i].partition, q->who[i].writes, q->who[i].bytes,
		       q->who[i].first_seq, q->who[i].last_seq);
	if (q->more_who)
		printf("  (%u writes by further agents not itemised)\n", q->more_who);
}

static void print_record(void *ctx, const struct rvm_witness_record *r)
{
	struct query *q = ctx;
	const char *name = rvm_action_name(r->action);
	char hexname[8];

	if (!matches(q, r))
		return;
	if (!name) {
		snprintf(hexname, sizeof(hexname), "0x%04x", r->action);
		name = hexname;
	}
	if (q->json)
		printf("%s\n  {\"seq\": %" PRIu64 ", \"time_ns\": %" PRIu64 ", \"action\": \"%s\", "
		       "\"flags\": %u, \"actor\": %" PRIu32 ", \"target\": %" PRIu64
		       ", \"arg0\": %" PRIu64 ", \"arg1\": %" PRIu64 "}",
		       q->matched ? "," : "", r->seq, r->time_ns, name, r->flags, r->actor, r->target,
		       r->arg0, r->arg1);
	else
		printf("%10" PRIu64 " %16" PRIu64 "  %-26s %5u %10" PRIu32 " %20" PRIu64 " %20" PRIu64
		       " %20" PRIu64 "\n",
		       r->seq, r->time_ns, name, r->flags, r->actor, r->target, r->arg0, r->arg1);
	q->matched++;
}

/* Key to check signatures with: the one given, else witness.pub next to the log if any. */
static const uint8_t *query_key(const char *log, const char *pub, const char *hmac, uint8_t key[32],
				int *rc)
{
	char tmp[4096], dflt[4200];

	*rc = 0;
	if (hmac) {
		*rc = rvm_tool_key_read(hmac, RVM_KEY_HMAC, key, 32) == RVM_OK ? 0 : 2;
		return key;
	}
	if (!pub) {
		snprintf(tmp, sizeof(tmp), "%s", log);
		snprintf(dflt, sizeof(dflt), "%s/witness.pub", dirname(tmp));
		if (access(dflt, F_OK) != 0)
			return NULL;
		pub = dflt;
	}
	*rc = rvm_tool_key_read(pub, RVM_KEY_ED25519_PUBLIC, key, 32) == RVM_OK ? 0 : 2;
	return key;
}

int rvm_cmd_query(int argc, char **argv)
{
	static struct rvm_witness_reader rd;
	const char *log = NULL, *pub = NULL, *hmac = NULL;
	const struct rvm_witness_verdict *v;
	const uint8_t *keyp;
	struct query q;
	uint8_t key[32];
	int rc = parse(argc, argv, &q, &log, &pub, &hmac);

	if (rc != 0)
		return rc;
	keyp = query_key(log, pub, hmac, key, &rc);
	if (rc != 0)
		return rc;
	if (q.has_changed && q.json)
		printf("{\"region\": %" PRIu64 ", \"changes\": [", q.region);
	else if (q.has_changed)
		printf("%10s %16s  %-20s %9s  %s\n", "seq", "time_ns", "action", "partition", "change");
	else if (q.json)
		printf("[");
	else
		printf("%10s %16s  %-26s %5s %10s %20s %20s %20s\n", "seq", "time_ns", "action",
		       "flags", "actor", "target", "arg0", "arg1");
	rvm_witness_reader_init(&rd, rvm_sha256_detect(), keyp,
				q.has_changed ? changed_record : print_record, &q);
	if (rvm_tool_verify_file(log, &rd) != RVM_OK)
		return 2;
	v = rvm_witness_reader_finish(&rd);
	if (q.has_changed)
		changed_summary(&q);
	else if (q.json)
		printf("%s]\n", q.matched ? "\n" : "");
	if (v->err != RVM_OK) {
		fprintf(stderr, "rvm query: %s: %s: %s%s; only records before it were listed\n", log,
			rvm_err_name(v->err), v->why ? v->why : rvm_err_str(v->err),
			v->where == RVM_WHERE_HEADER ? " (header)" : "");
		if (v->where != RVM_WHERE_HEADER)
			fprintf(stderr, "rvm query: first bad seq %" PRIu64 "\n", v->bad_seq);
		return rvm_tool_exit_for(v->err);
	}
	if (v->torn_bytes || v->torn_checkpoint)
		fprintf(stderr, "rvm query: %s: torn tail ignored after seq %" PRIu64 "\n", log,
			v->records ? v->records - 1 : 0);
	return 0;
}
