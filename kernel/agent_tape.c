/* kernel/agent_tape.c - agents' input tapes: what each consumed since its snapshot, for replay. */
#include <rvm/bytes.h>
#include <rvm/fnv.h>
#include <rvm/kernel_recover.h>

#include "agent_priv.h"
#include "recover_priv.h"

/* a's tape when recovery is attached and a is live (a replay reads the tape, never adds). */
static struct rvm_agent_tape *live_tape(const struct rvm_agent *a)
{
	struct rvm_kernel_recovery *r = a->w->rec;

	return r && !a->replay && a->num < RVM_AGENT_MAX ? &r->tape[a->num] : NULL;
}

/* Does the tape take inputs: its generation is replayable, or the next one it starts is? */
static bool recording(const struct rvm_agent_tape *t)
{
	return t->state == RVM_TAPE_OK || (t->next && t->next_state == RVM_TAPE_OK);
}

void rvm_tape_reset(struct rvm_kernel_recovery *r, const struct rvm_agent *a, uint64_t base)
{
	struct rvm_agent_tape *t;

	if (!r || a->num >= RVM_AGENT_MAX)
		return;
	t = &r->tape[a->num];
	t->base = base;
	t->fuel0 = a->fuel;
	t->sends = t->sends0 = RVM_FNV1A64_OFFSET;
	t->used = t->unbound = t->entries = t->msgs = 0;
	t->state = RVM_TAPE_OK;
	/* A generation on its way is forgotten: the agent's state no longer follows from it. */
	t->next = 0;
	t->cut = t->cut_entries = t->cut_msgs = 0;
}

void rvm_tape_cut(struct rvm_kernel_recovery *r, const struct rvm_agent *a, uint64_t id)
{
	struct rvm_agent_tape *t;

	if (!r || a->num >= RVM_AGENT_MAX)
		return;
	t = &r->tape[a->num];
	t->next = id;
	t->next_state = RVM_TAPE_OK;
	t->next_fuel0 = a->fuel;
	t->next_sends0 = t->sends;
	t->cut = t->state == RVM_TAPE_OK ? t->used : 0;
	t->cut_entries = t->entries;
	t->cut_msgs = t->msgs;
	if (t->state != RVM_TAPE_OK)
		t->used = t->unbound = 0; /* what it records from here is the next generation's */
}

void rvm_tape_commit(struct rvm_kernel_recovery *r, const struct rvm_agent *a, uint64_t id)
{
	struct rvm_agent_tape *t;
	uint32_t keep;

	if (!r || a->num >= RVM_AGENT_MAX || r->tape[a->num].next != id || !id)
		return;
	t = &r->tape[a->num];
	keep = t->used - t->cut;
	/* The next generation is usually shorter than the cut: a plain copy (word-wise). */
	if (t->cut && keep <= t->cut)
		rvm_memcpy(r->tape_buf[a->num], r->tape_buf[a->num] + t->cut, keep);
	else if (t->cut && keep)
		rvm_memmove(r->tape_buf[a->num], r->tape_buf[a->num] + t->cut, keep);
	t->used = keep;
	t->unbound = t->unbound > t->cut ? t->unbound - t->cut : 0;
	t->entries -= t->cut_entries;
	t->msgs -= t->cut_msgs;
	t->base = id;
	t->fuel0 = t->next_fuel0;
	t->sends0 = t->next_sends0;
	t->state = t->next_state;
	t->next = 0;
	t->cut = t->cut_entries = t->cut_msgs = 0;
}

void rvm_tape_abandon(struct rvm_kernel_recovery *r, const struct rvm_agent *a, uint64_t id)
{
	struct rvm_agent_tape *t;

	if (!r || a->num >= RVM_AGENT_MAX || r->tape[a->num].next != id || !id)
		return;
	t = &r->tape[a->num];
	/* Kept whole on its old base; a tape that was not replayable there drops the entries it
	 * took for the base that did not come. */
	if (t->state != RVM_TAPE_OK)
		t->used = t->unbound = 0;
	t->next = 0;
	t->cut = t->cut_entries = t->cut_msgs = 0;
}

void rvm_tape_lose(struct rvm_kernel_recovery *r, struct rvm_agent *a, enum rvm_err why)
{
	struct rvm_agent_tape *t = &r->tape[a->num];
	bool was_ok = t->state == RVM_TAPE_OK;

	if (!recording(t))
		return;
	/* The input that cannot go on it belongs to both generations. A pending one still moves
	 * the tape to its base once durable (its snapshot is sound), where it is not replayable
	 * either: a rollback restores the agent there alone. */
	if (t->next)
		t->next_state = why == RVM_E_UNSUPPORTED ? RVM_TAPE_GPU : RVM_TAPE_LOST;
	t->cut = t->cut_entries = t->cut_msgs = 0;
	t->used = t->unbound = 0;
	if (!was_ok)
		return; /* given up on record already */
	t->state = why == RVM_E_UNSUPPORTED ? RVM_TAPE_GPU : RVM_TAPE_LOST;
	r->tapes_lost++;
	/* A rollback of a now restores it without re-running its inputs (or leaves it running):
	 * the record says from when. */
	(void)rvm_witness_emit(&r->k->witness, RVM_ACT_TAPE_LOST, 0, a->part, a->num, t->base,
			       (uint64_t)why, NULL);
}

/*
 * Asks for a checkpoint of a's partition at the end of the running slice (kernel_ckpt.c):
 * not while one is on its way to the store (it trims the tape when durable), nor after two
 * failed in a row (the tape then runs full and is given up, rvm_tape_room).
 */
static void want_checkpoint(struct rvm_kernel_recovery *r, const struct rvm_agent *a)
{
	if (a->part >= RVM_KPARTS || r->pending[a->part] || r->inflight[a->part] ||
	    r->ckfail[a->part] >= 2)
		return;
	r->pending[a->part] = 1;
	r->forced++;
}

/* A small copy a word at a time whatever the alignment (rvm_memcpy goes byte by byte when
 * the two pointers' alignments differ, as a tape entry's and a journal payload's do). */
static void copy_small(uint8_t *d, const uint8_t *s, uint32_t n)
{
	for (; n >= 8; n -= 8, d += 8, s += 8)
		rvm_store_le64(d, rvm_load_le64(s));
	while (n--)
		*d++ = *s++;
}

void rvm_tape_record(struct rvm_agent *a, enum rvm_journal_kind kind, uint32_t aux,
		     const void *payload, uint32_t len, uint8_t idx)
{
	struct rvm_agent_tape *t = live_tape(a);
	struct rvm_kernel_recovery *r = a->w->rec;
	uint8_t *e;

	if (!t || !recording(t))
		return;
	if (kind == RVM_JK_GPU) {
		rvm_tape_lose(r, a, RVM_E_UNSUPPORTED);
		return;
	}
	if (kind != RVM_JK_RECV && kind != RVM_JK_NOW && kind != RVM_JK_SPAWN &&
	    kind != RVM_JK_SEND)
		return;
	if (len > RVM_TAPE_BYTES - RVM_TAPE_HEAD ||
	    t->used > RVM_TAPE_BYTES - RVM_TAPE_HEAD - len) {
		rvm_tape_lose(r, a, RVM_E_FULL);
		return;
	}
	e = r->tape_buf[a->num] + t->used;
	rvm_store_le64(e + RVM_TH_SEQ, 0);
	rvm_store_le32(e + RVM_TH_AUX, aux);
	rvm_store_le32(e + RVM_TH_SENDS, (uint32_t)t->sends);
	rvm_store_le16(e + RVM_TH_LEN, (uint16_t)len);
	e[RVM_TH_KIND] = (uint8_t)kind;
	e[RVM_TH_IDX] = idx;
	if (len)
		copy_small(e + RVM_TAPE_HEAD, payload, len);
	t->used += RVM_TAPE_HEAD + len;
	t->entries++;
	t->msgs += kind == RVM_JK_RECV && aux != RVM_JOURNAL_NO_EDGE;
	if (t->used > RVM_TAPE_HIGH)
		want_checkpoint(r, a);
}

void rvm_tape_bound(struct rvm_agent *a, uint64_t seq)
{
	struct rvm_agent_tape *t = live_tape(a);
	uint8_t *buf;

	if (!t || !recording(t))
		return;
	buf = a->w->rec->tape_buf[a->num];
	while (t->unbound < t->used) {
		rvm_store_le64(buf + t->unbound + RVM_TH_SEQ, seq);
		t->unbound += RVM_TAPE_HEAD + rvm_load_le16(buf + t->unbound + RVM_TH_LEN);
	}
}

/* One 64-bit word into the send hash: xor it in, multiply by an odd constant (the golden
 * ratio's), fold the high half down. FNV-1a's step a word at a time: a send costs a few
 * multiplies instead of one per byte (it is on every accepted send's path). */
static uint64_t mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9E3779B97F4A7C15ull;
	return h ^ (h >> 32);
}

uint64_t rvm_tape_hash_send(uint64_t h, uint32_t edge, const uint8_t *p, uint32_t len)
{
	uint64_t tail = 0;
	uint32_t i = 0;

	h = mix(h, (uint64_t)edge | (uint64_t)len << 32);
	for (; len - i >= 8; i += 8)
		h = mix(h, rvm_load_le64(p + i));
	for (uint32_t sh = 0; i < len; i++, sh += 8)
		tail |= (uint64_t)p[i] << sh;
	return len & 7u ? mix(h, tail) : h;
}

void rvm_tape_sent(struct rvm_agent *a, uint32_t edge, const uint8_t *p, uint32_t len)
{
	struct rvm_agent_tape *t = live_tape(a);

	if (t && recording(t))
		t->sends = rvm_tape_hash_send(t->sends, edge, p, len);
}

bool rvm_tape_room(struct rvm_agent *a, uint32_t need)
{
	struct rvm_agent_tape *t = live_tape(a);
	struct rvm_kernel_recovery *r = a->w->rec;

	if (!t || !recording(t) ||
	    t->used + RVM_TAPE_HEAD + need + RVM_TAPE_RESERVE <= RVM_TAPE_BYTES)
		return true;
	/* Full, its partition's checkpoints fail and none is on its way: waiting would be for
	 * ever. The tape is given up with the store's error (it stays on its base). */
	if (a->part < RVM_KPARTS && r->ckfail[a->part] && !t->next && !r->inflight[a->part]) {
		rvm_tape_lose(r, a, r->ckfail_err[a->part]);
		r->ckfail[a->part] = 1; /* its next tape may ask once more */
		return true;
	}
	want_checkpoint(r, a);
	return false;
}

uint32_t rvm_tape_last_message(const struct rvm_kernel_recovery *r, uint32_t agent, uint64_t *seq,
			       uint64_t *where)
{
	const struct rvm_agent_tape *t = &r->tape[agent];
	const uint8_t *buf = r->tape_buf[agent];
	uint32_t last = UINT32_MAX;

	if (t->state != RVM_TAPE_OK)
		return UINT32_MAX;
	for (uint32_t off = 0; off < t->used;
	     off += RVM_TAPE_HEAD + rvm_load_le16(buf + off + RVM_TH_LEN))
		if (buf[off + RVM_TH_KIND] == RVM_JK_RECV &&
		    rvm_load_le32(buf + off + RVM_TH_AUX) != RVM_JOURNAL_NO_EDGE)
			last = off;
	if (last != UINT32_MAX) {
		/* The journal entry: its batch record, its place in the batch, edge, length. */
		*seq = rvm_load_le64(buf + last + RVM_TH_SEQ);
		*where = buf[last + RVM_TH_IDX] |
			 (uint64_t)(rvm_load_le32(buf + last + RVM_TH_AUX) & 0xffffu) << 16 |
			 (uint64_t)rvm_load_le16(buf + last + RVM_TH_LEN) << 32;
	}
	return last;
}
