/* tools/rvm/journal_bind.c - `rvm journal --check`'s binding check: every entry against the run's witness log. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rvm/journal.h>
#include <rvm/witness.h>
#include <rvm/witness_file.h>

#include "cmd.h"
#include "logfile.h"

struct recs {
	struct rvm_witness_record *r;
	uint64_t n, cap;
	bool nomem;
};

static void collect(void *ctx, const struct rvm_witness_record *r)
{
	struct recs *rs = ctx;

	if (rs->n == rs->cap) {
		uint64_t cap = rs->cap ? rs->cap * 2 : 4096;
		struct rvm_witness_record *p = realloc(rs->r, cap * sizeof(*p));

		if (!p) {
			rs->nomem = true;
			return;
		}
		rs->r = p;
		rs->cap = cap;
	}
	rs->r[rs->n++] = *r;
}

static enum rvm_err lookup(void *ctx, uint64_t seq, struct rvm_witness_record *out)
{
	const struct recs *rs = ctx;

	if (seq >= rs->n || rs->r[seq].seq != seq)
		return RVM_E_NOTFOUND;
	*out = rs->r[seq];
	return RVM_OK;
}

int rvm_tool_journal_bind(const char *dir, const uint8_t *jbuf, size_t jlen)
{
	static struct rvm_witness_reader rd;
	struct rvm_journal_bind_report rep;
	struct recs rs = { 0 };
	const struct rvm_witness_verdict *v;
	char path[4200];
	enum rvm_err err;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/witness.log", dir);
	/* The chain is verified on the way (the audit checks signatures against a key). */
	rvm_witness_reader_init(&rd, NULL, NULL, collect, &rs);
	if (rvm_tool_verify_file(path, &rd) != RVM_OK) {
		free(rs.r);
		return 2;
	}
	v = rvm_witness_reader_finish(&rd);
	if (rs.nomem) {
		fprintf(stderr, "rvm journal: out of memory reading %s\n", path);
		free(rs.r);
		return 2;
	}
	if (v->err != RVM_OK) {
		printf("binding: %s does not verify (%s: %s): run rvm audit on it\n", path,
		       rvm_err_name(v->err), v->why ? v->why : rvm_err_str(v->err));
		free(rs.r);
		return 1;
	}
	err = rvm_journal_bind_check(jbuf, jlen, lookup, &rs, &rep);
	if (err == RVM_E_TAMPER) {
		printf("binding: entry at offset %zu (seq %" PRIu64 "): %s\n", rep.bad_off,
		       rep.bad_seq, rep.why);
		rc = 1;
	} else if (err != RVM_OK) {
		printf("binding: journal unreadable: %s: %s\n", rvm_err_name(err), rvm_err_str(err));
		rc = 1;
	} else {
		printf("binding: %" PRIu64 " entries match %" PRIu64 " agent.hostcall and %" PRIu64
		       " agent.hostcall_batch records of the verified log",
		       rep.entries - rep.unbound, rep.singles, rep.batches);
		if (rep.unbound)
			printf(" (%" PRIu64 " after the log's end, unchecked)", rep.unbound);
		printf("\n");
	}
	free(rs.r);
	return rc;
}
