/* kernel/kernel_replay.c - re-running an agent against its input tape: answers, checks, verdict. */
#include <rvm/bytes.h>
#include <rvm/fnv.h>
#include <rvm/kernel_recover.h>

#include "agent_priv.h"
#include "recover_priv.h"

#define NONE UINT32_MAX

/* Input kinds a tape holds (the replay keeps one cursor per kind, as rvm journal --check). */
static const uint8_t input_kinds[] = {RVM_JK_RECV, RVM_JK_NOW, RVM_JK_SPAWN, RVM_JK_SEND};

static struct rvm_tape_replay *rp_of(const struct rvm_agent *a)
{
	return &a->w->rec->rp;
}

static const uint8_t *buf_of(const struct rvm_agent *a)
{
	return a->w->rec->tape_buf[a->num];
}

static uint32_t used_of(const struct rvm_agent *a)
{
	return a->w->rec->tape[a->num].used;
}

static uint32_t entry_size(const uint8_t *buf, uint32_t off)
{
	return RVM_TAPE_HEAD + rvm_load_le16(buf + off + RVM_TH_LEN);
}

static const uint8_t *payload(const struct rvm_agent *a, uint32_t off)
{
	return buf_of(a) + off + RVM_TAPE_HEAD;
}

/* Offset of the first entry of kind k at or after off (used: none). */
static uint32_t seek(const uint8_t *buf, uint32_t used, uint32_t off, uint8_t k)
{
	while (off < used && buf[off + RVM_TH_KIND] != k)
		off += entry_size(buf, off);
	return off;
}

/*
 * The next entry of kind k the replay may use, or NONE. With an F3 stop, entries after the
 * skipped message are its consequences and are never used, except SEND counts: they are
 * written late (at a refusal or a digest) and may count sends made before it.
 */
static uint32_t next(const struct rvm_agent *a, uint8_t k)
{
	const struct rvm_tape_replay *rp = rp_of(a);
	uint32_t off = rp->cur[k];

	if (off >= used_of(a) || (k != RVM_JK_SEND && rp->stop != NONE && off > rp->stop))
		return NONE;
	return off;
}

static void consume(struct rvm_agent *a, uint8_t k)
{
	struct rvm_tape_replay *rp = rp_of(a);

	rp->cur[k] = seek(buf_of(a), used_of(a), rp->cur[k] + entry_size(buf_of(a), rp->cur[k]), k);
	rp->entries++;
}

/* Has the replay used every entry (a RECV holding only polls it answered counts as used)? */
static bool all_used(const struct rvm_agent *a)
{
	const struct rvm_tape_replay *rp = rp_of(a);
	const uint8_t *buf = buf_of(a);
	uint32_t used = used_of(a), off;

	for (uint32_t i = 0; i < sizeof(input_kinds); i++) {
		off = rp->cur[input_kinds[i]];
		if (off < used && input_kinds[i] == RVM_JK_RECV &&
		    rvm_load_le32(buf + off + RVM_TH_AUX) == RVM_JOURNAL_NO_EDGE &&
		    rp->empties >= rvm_load_le32(buf + off + RVM_TAPE_HEAD))
			off = seek(buf, used, off + entry_size(buf, off), RVM_JK_RECV);
		if (off < used)
			return false;
	}
	return true;
}

/*
 * The agent asked for an input past its tape (or, skipping, reached the message F3 drops):
 * what it did up to here must be exactly what it did live. Then the call suspends and is
 * retried live; otherwise the replay diverged.
 */
static int32_t go_live(struct rvm_agent *a, bool skipping)
{
	struct rvm_tape_replay *rp = rp_of(a);
	const struct rvm_agent_tape *t = &a->w->rec->tape[a->num];
	bool ok;

	if (skipping)
		ok = (uint32_t)rp->sends == rvm_load_le32(buf_of(a) + rp->stop + RVM_TH_SENDS) &&
		     next(a, RVM_JK_NOW) == NONE && next(a, RVM_JK_SPAWN) == NONE;
	else
		ok = rp->sends == t->sends && all_used(a);
	if (!ok) {
		rp->err = RVM_E_DIVERGED;
		return RVM_REPLAY_BAD;
	}
	rp->live = true;
	rp->skipped = skipping;
	return RVM_REPLAY_LIVE;
}

int32_t rvm_replay_send(struct rvm_agent *a, uint32_t edge, const uint8_t *p, uint32_t len)
{
	struct rvm_tape_replay *rp = rp_of(a);
	int32_t res;

	for (;;) {
		uint32_t off = next(a, RVM_JK_SEND), oks, refusals;
		const uint8_t *b;
		int32_t then;
		bool used_up;

		if (off == NONE)
			return go_live(a, false);
		b = payload(a, off);
		if (rvm_load_le16(buf_of(a) + off + RVM_TH_LEN) != 12) {
			rp->err = RVM_E_CORRUPT;
			return RVM_REPLAY_BAD;
		}
		/* {accepted A, refused R, then}: A sends answered 0, R answered -1, then one
		 * answered `then` (-1: none, the counts were written at a digest). */
		oks = rvm_load_le32(b);
		refusals = rvm_load_le32(b + 4);
		then = (int32_t)rvm_load_le32(b + 8);
		if (rp->oks < oks) {
			res = 0;
			used_up = ++rp->oks == oks && refusals == 0 && then == -1;
		} else if (rp->fails < refusals) {
			res = -1;
			used_up = ++rp->fails == refusals && then == -1;
		} else if (then == -1) {
			consume(a, RVM_JK_SEND); /* nothing left in it */
			rp->oks = rp->fails = 0;
			continue;
		} else {
			res = then;
			used_up = true;
		}
		if (used_up) {
			consume(a, RVM_JK_SEND);
			rp->oks = rp->fails = 0;
		}
		break;
	}
	if (res == 0) {
		/* Delivered live already: not sent again, but it must be the same message. */
		if (edge >= a->nout) {
			rp->err = RVM_E_DIVERGED;
			return RVM_REPLAY_BAD;
		}
		rp->sends = rvm_tape_hash_send(rp->sends, edge, p, len);
	}
	return res;
}

int32_t rvm_replay_recv(struct rvm_agent *a, uint8_t *p, uint32_t cap, bool blocking)
{
	struct rvm_tape_replay *rp = rp_of(a);

	if (!(a->rights & RVM_AGENT_RIGHT_RECV))
		return -3;
	for (;;) {
		uint32_t off = next(a, RVM_JK_RECV), polls, edge, len;
		int32_t r;

		if (off == NONE)
			return go_live(a, false);
		polls = rvm_load_le32(payload(a, off));
		edge = rvm_load_le32(buf_of(a) + off + RVM_TH_AUX);
		/* Empty polls came first, as counted; each is counted again for the journal. */
		if (!blocking && rp->empties < polls) {
			rp->empties++;
			a->polls++;
			return -1;
		}
		if (edge == RVM_JOURNAL_NO_EDGE) {
			consume(a, RVM_JK_RECV);
			rp->empties = 0;
			continue;
		}
		if (off == rp->stop)
			return go_live(a, true);
		len = rvm_load_le16(buf_of(a) + off + RVM_TH_LEN) - RVM_JOURNAL_RECV_PREFIX;
		r = rvm_agent_deliver(a, edge, payload(a, off) + RVM_JOURNAL_RECV_PREFIX, len, p,
				      cap);
		if (r < 0) {
			rp->err = RVM_E_IO;
			return RVM_REPLAY_BAD;
		}
		consume(a, RVM_JK_RECV);
		rp->empties = 0;
		rp->msgs++;
		return r;
	}
}

int32_t rvm_replay_now(struct rvm_agent *a, uint64_t *t)
{
	uint32_t off = next(a, RVM_JK_NOW);

	if (off == NONE)
		return go_live(a, false);
	*t = rvm_load_le64(payload(a, off));
	consume(a, RVM_JK_NOW);
	return 0;
}

int32_t rvm_replay_spawn(struct rvm_agent *a, int32_t *res, uint32_t *tmpl)
{
	uint32_t off = next(a, RVM_JK_SPAWN);

	if (off == NONE)
		return go_live(a, false);
	/* The child exists already: the answer is the recorded one, nothing is spawned. */
	*res = (int32_t)rvm_load_le32(payload(a, off));
	*tmpl = rvm_load_le32(buf_of(a) + off + RVM_TH_AUX);
	consume(a, RVM_JK_SPAWN);
	return 0;
}

int32_t rvm_replay_other(struct rvm_agent *a)
{
	return go_live(a, false);
}

static void memory_sha(const struct rvm_kernel_recovery *r, const struct rvm_agent *a,
		       uint8_t out[RVM_SHA256_DIGEST])
{
	struct rvm_wasm_memory *m = a->inst ? rvm_wasm_instance_memory(a->inst) : NULL;

	rvm_sha256(r->k->plat->sha256, m ? m->data : NULL, m ? (size_t)m->size : 0, out);
}

void rvm_kernel_replay_goal(struct rvm_kernel_recovery *r, const struct rvm_agent *a,
			    struct rvm_replay_goal *g)
{
	g->fuel = a->fuel - r->tape[a->num].fuel0;
	memory_sha(r, a, g->mem);
	g->trapped = false;
	g->stop = NONE;
}

/* How the run ended, against the goal. */
static enum rvm_err verdict(const struct rvm_kernel_recovery *r, const struct rvm_agent *a,
			    const struct rvm_replay_goal *g, enum rvm_wasm_status st, uint64_t done)
{
	const struct rvm_tape_replay *rp = &r->rp;
	uint8_t mem[RVM_SHA256_DIGEST];
	bool at_goal;

	if (rp->err != RVM_OK)
		return rp->err;
	memory_sha(r, a, mem);
	at_goal = done == g->fuel && rvm_memcmp(mem, g->mem, RVM_SHA256_DIGEST) == 0;
	if (st == RVM_WASM_TRAPPED)
		return g->trapped && at_goal ? RVM_E_TRAP : RVM_E_DIVERGED;
	if (st != RVM_WASM_SUSPENDED && st != RVM_WASM_OUT_OF_FUEL && st != RVM_WASM_READY)
		return RVM_E_DIVERGED; /* it returned: live it had not */
	if (rp->live)
		return rp->skipped || at_goal ? RVM_OK : RVM_E_DIVERGED;
	/* Out of fuel where the live agent was preempted (or suspended in yield), or, when it
	 * trapped there, short of a call that trapped by injection (it did not come back). */
	return at_goal && all_used(a) ? RVM_OK : RVM_E_DIVERGED;
}

enum rvm_err rvm_kernel_replay(struct rvm_kernel_recovery *r, struct rvm_agent *a,
			       const struct rvm_replay_goal *g)
{
	struct rvm_tape_replay *rp = &r->rp;
	const struct rvm_agent_tape *t = &r->tape[a->num];
	enum rvm_wasm_status st = RVM_WASM_READY;
	uint64_t done = 0;
	enum rvm_err err;

	rvm_memset(rp, 0, sizeof(*rp));
	rp->agent = a->num;
	rp->stop = g->stop;
	rp->sends = t->sends0; /* the tape's send hash chains on from its base */
	for (uint32_t i = 0; i < sizeof(input_kinds); i++)
		rp->cur[input_kinds[i]] = seek(r->tape_buf[a->num], t->used, 0, input_kinds[i]);
	a->replay = true;
	rvm_agent_bind_replay(a, true);
	/*
	 * Exactly the fuel it used live: preempted there, it stops there. Fuel is charged ahead
	 * for a straight stretch of code, so inputs consumed after the last charge (and a trap
	 * they lead to) need more runs at no new fuel: a retried call costs none, and a run that
	 * had to charge again has gone past where the live agent was (the verdict says so). With
	 * its fuel and its inputs used up, it is where the live agent was as far as anything it
	 * saw goes (rvm journal --check stops there too): what is left of the stretch runs live.
	 * Skipping, it runs on to the message it drops (which it received before the trap).
	 */
	while (!rp->live && rp->err == RVM_OK && done <= g->fuel &&
	       (done < g->fuel || rp->stop != NONE || !all_used(a))) {
		uint64_t used = 0;

		st = rvm_wasm_run(a->inst, g->fuel > done ? g->fuel - done : 1, &used);
		done += used;
		if (st != RVM_WASM_SUSPENDED && st != RVM_WASM_OUT_OF_FUEL)
			break;
	}
	a->life_fuel += done;
	err = verdict(r, a, g, st, done);
	/* Where this life is now, on record (regenerated counts first): `rvm journal --check`
	 * re-runs it from the same base and inputs and must arrive at the same digest. */
	(void)rvm_agent_digest(a);
	a->replay = false;
	rvm_agent_bind_replay(a, false);
	a->waiting = false;
	if (err == RVM_OK) {
		r->replays++;
		r->inputs_replayed += rp->entries;
		r->msgs_replayed += rp->msgs;
	} else {
		r->replay_failed++;
	}
	(void)rvm_witness_emit(
		&r->k->witness, RVM_ACT_RECOVER_REPLAY, err == RVM_OK ? 0 : RVM_WF_DENIED, a->part,
		a->num, t->base,
		err == RVM_OK ? rp->entries | (uint64_t)rp->msgs << 32 : (uint64_t)err, NULL);
	return err;
}
