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

void rvm_tape_reset(struct rvm_kernel_recovery *r, const struct rvm_agent *a, uint64_t base)
{
	struct rvm_agent_tape *t;

	if (!r || a->num >= RVM_AGENT_MAX)
		return;
	t = &r->tape[a->num];
	t->base = base;
	t->fuel0 = a->fuel;
	t->sends = RVM_FNV1A64_OFFSET;
	t->used = t->unbound = t->entries = t->msgs = 0;
	t->state = RVM_TAPE_OK;
}

void rvm_tape_lose(struct rvm_kernel_recovery *r, struct rvm_agent *a, enum rvm_err why)
{
	struct rvm_agent_tape *t = &r->tape[a->num];

	if (t->state != RVM_TAPE_OK)
		return;
	t->state = why == RVM_E_UNSUPPORTED ? RVM_TAPE_GPU : RVM_TAPE_LOST;
	t->used = t->unbound = 0;
	r->tapes_lost++;
	/* A rollback of a now restores it without re-running its inputs (or leaves it running):
	 * the record says from when. */
	(void)rvm_witness_emit(&r->k->witness, RVM_ACT_TAPE_LOST, 0, a->part, a->num, t->base,
			       (uint64_t)why, NULL);
}

/* Asks for a checkpoint of a's partition at the end of the running slice (kernel_ckpt.c). */
static void want_checkpoint(struct rvm_kernel_recovery *r, const struct rvm_agent *a)
{
	if (a->part >= RVM_KPARTS || r->pending[a->part])
		return;
	r->pending[a->part] = 1;
	r->forced++;
}

void rvm_tape_record(struct rvm_agent *a, enum rvm_journal_kind kind, uint32_t aux,
		     const void *payload, uint32_t len, uint8_t idx)
{
	struct rvm_agent_tape *t = live_tape(a);
	struct rvm_kernel_recovery *r = a->w->rec;
	uint8_t *e;

	if (!t || t->state != RVM_TAPE_OK)
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
		rvm_memcpy(e + RVM_TAPE_HEAD, payload, len);
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

	if (!t || t->state != RVM_TAPE_OK)
		return;
	buf = a->w->rec->tape_buf[a->num];
	while (t->unbound < t->used) {
		rvm_store_le64(buf + t->unbound + RVM_TH_SEQ, seq);
		t->unbound += RVM_TAPE_HEAD + rvm_load_le16(buf + t->unbound + RVM_TH_LEN);
	}
}

uint64_t rvm_tape_hash_send(uint64_t h, uint32_t edge, const uint8_t *p, uint32_t len)
{
	uint8_t b[8];

	rvm_store_le32(b, edge);
	rvm_store_le32(b + 4, len);
	h = rvm_fnv1a64_update(h, b, sizeof(b));
	return rvm_fnv1a64_update(h, p, len);
}

void rvm_tape_sent(struct rvm_agent *a, uint32_t edge, const uint8_t *p, uint32_t len)
{
	struct rvm_agent_tape *t = live_tape(a);

	if (t && t->state == RVM_TAPE_OK)
		t->sends = rvm_tape_hash_send(t->sends, edge, p, len);
}

bool rvm_tape_room(struct rvm_agent *a, uint32_t need)
{
	struct rvm_agent_tape *t = live_tape(a);

	if (!t || t->state != RVM_TAPE_OK ||
	    t->used + RVM_TAPE_HEAD + need + RVM_TAPE_RESERVE <= RVM_TAPE_BYTES)
		return true;
	want_checkpoint(a->w->rec, a);
	return false;
}

void rvm_tape_ckpt_failed(struct rvm_kernel_recovery *r, uint32_t p, enum rvm_err err)
{
	struct rvm_world *w = r->k->w;

	for (uint32_t i = 0; i < w->nagents; i++)
		if (w->agents[i].part == p && r->tape[i].state == RVM_TAPE_OK &&
		    r->tape[i].used > RVM_TAPE_HIGH)
			rvm_tape_lose(r, &w->agents[i], err);
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
