/* kernel/journal_bind.c - checks that every journal entry matches the witness record that binds it. */
#include <rvm/bytes.h>
#include <rvm/journal.h>
#include <rvm/sha256.h>
#include <rvm/witness.h>

static enum rvm_err bad(struct rvm_journal_bind_report *rep, size_t off, uint64_t seq,
			const char *why)
{
	rep->bad_off = off;
	rep->bad_seq = seq;
	rep->why = why;
	return RVM_E_TAMPER;
}

/* The head of the entry at off as the batch hash takes it: seq zeroed. */
static void head_unsealed(const uint8_t *buf, size_t off, uint8_t head[RVM_JOURNAL_HEAD])
{
	rvm_memcpy(head, buf + off, RVM_JOURNAL_HEAD);
	rvm_memset(head, 0, 8);
}

/*
 * Checks the batch whose first entry e was read at off: the run of BATCH entries with e's
 * seq. *pos is the offset after e on entry, the offset after the batch on return.
 */
static enum rvm_err check_batch(const uint8_t *buf, size_t len, size_t off,
				const struct rvm_journal_entry *e, const struct rvm_witness_record *r,
				struct rvm_journal_bind_report *rep, size_t *pos)
{
	struct rvm_journal_entry x = *e;
	struct rvm_sha256 h;
	uint8_t head[RVM_JOURNAL_HEAD], d[RVM_SHA256_DIGEST];
	size_t cur = off, after;
	uint64_t count = 0;
	enum rvm_err err;

	rvm_sha256_init(&h, NULL);
	for (;;) {
		if (x.agent != e->agent)
			return bad(rep, cur, x.seq, "a batch mixes agents");
		head_unsealed(buf, cur, head);
		rvm_sha256_update(&h, head, sizeof(head));
		rvm_sha256_update(&h, x.payload, (x.len + 7u) & ~7u); /* padding was checked zero */
		count++;
		cur = after = *pos;
		err = rvm_journal_next(buf, len, &after, &x);
		if (err != RVM_OK || !(x.flags & RVM_JOURNAL_F_BATCH) || x.seq != e->seq)
			break;
		*pos = after;
	}
	rvm_sha256_final(&h, d);
	rep->entries += count;
	if (r->action != RVM_ACT_HOSTCALL_BATCH || r->target != e->agent)
		return bad(rep, off, e->seq, "its seq names no agent.hostcall_batch record of its agent");
	if (count < r->arg0 && (err == RVM_E_EMPTY || err == RVM_E_TRUNCATED)) {
		rep->unbound += count; /* the file ends inside the batch: a crash, not a finding */
		return RVM_OK;
	}
	if (r->arg0 != count)
		return bad(rep, off, e->seq, "batch has another number of entries than its record");
	if (r->arg1 != rvm_load_le64(d))
		return bad(rep, off, e->seq, "batch does not match the hash in its record");
	rep->batches++;
	return RVM_OK;
}

static enum rvm_err check_single(const struct rvm_journal_entry *e, size_t off,
				 const struct rvm_witness_record *r,
				 struct rvm_journal_bind_report *rep)
{
	uint64_t h = rvm_journal_hash8(NULL, e->payload, e->len);

	rep->entries++;
	if (h != rvm_load_le64(e->hash8))
		return bad(rep, off, e->seq, "payload does not match its hash");
	if (r->action != RVM_ACT_HOSTCALL || r->target != e->agent)
		return bad(rep, off, e->seq, "its seq names no agent.hostcall record of its agent");
	if (r->arg0 != ((uint64_t)e->kind << 32 | e->len) || r->arg1 != h)
		return bad(rep, off, e->seq, "entry does not match its agent.hostcall record");
	rep->singles++;
	return RVM_OK;
}

enum rvm_err rvm_journal_bind_check(const uint8_t *buf, size_t len, rvm_journal_record_fn *lookup,
				    void *ctx, struct rvm_journal_bind_report *rep)
{
	struct rvm_journal_bind_report local;
	struct rvm_journal_entry e;
	struct rvm_witness_record r;
	size_t off = RVM_JOURNAL_HEADER, at;
	uint64_t last = 0;
	enum rvm_err err;

	if (!rep)
		rep = &local;
	rvm_memset(rep, 0, sizeof(*rep));
	if (!buf || !lookup)
		return RVM_E_INVAL;
	if ((err = rvm_journal_check_header(buf, len)) != RVM_OK)
		return err;
	for (;;) {
		at = off;
		err = rvm_journal_next(buf, len, &off, &e);
		if (err == RVM_E_EMPTY || err == RVM_E_TRUNCATED)
			return RVM_OK;
		if (err != RVM_OK)
			return err;
		/* Each entry is appended right after the record that binds it, under one lock:
		 * the file is in seq order. */
		if (e.seq < last)
			return bad(rep, at, e.seq, "entry is out of seq order");
		last = e.seq;
		if (lookup(ctx, e.seq, &r) != RVM_OK) {
			/* Past the log's end (it was cut short, or this is the tail of a crash):
			 * every later entry is too, by the order above. Counted, not a finding. */
			rep->entries++;
			rep->unbound++;
			continue;
		}
		if (e.flags & RVM_JOURNAL_F_BATCH)
			err = check_batch(buf, len, at, &e, &r, rep, &off);
		else
			err = check_single(&e, at, &r, rep);
		if (err != RVM_OK)
			return err;
	}
}
