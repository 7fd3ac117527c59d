/* kernel/agent_chan.c - channels between agents: local rings inside a partition, gated CommEdges across. */
#include <rvm/bytes.h>
#include <rvm/world.h>

#include "agent_priv.h"

static bool chan_full(const struct rvm_chan *c)
{
	return c->head - c->tail >= RVM_CHAN_RING;
}

/* Drops channel c's kernel edge and its three caps; queued messages stay in the ring, local. */
static void edge_drop(struct rvm_world *w, struct rvm_chan *c)
{
	if (c->edge.id == RVM_OBJ_NULL)
		return;
	(void)rvm_edge_destroy(&w->ipc, RVM_CAP_KERNEL_TABLE, c->edge.owner);
	/* The caps went stale with the edge; delete them so the tables do not fill up (the
	 * table of a partition a merge destroyed is already clear). */
	(void)rvm_cap_delete(&w->gate, RVM_CAP_KERNEL_TABLE, c->edge.owner);
	if (rvm_part_live(w, c->edge_src))
		(void)rvm_cap_delete(&w->gate, c->edge_src, c->edge.send);
	if (rvm_part_live(w, c->edge_dst))
		(void)rvm_cap_delete(&w->gate, c->edge_dst, c->edge.recv);
	rvm_memset(&c->edge, 0, sizeof(c->edge));
	for (uint32_t i = 0; i < RVM_CHAN_RING; i++)
		c->via_edge[i] = 0;
}

enum rvm_err rvm_chan_rebind(struct rvm_world *w, struct rvm_chan *c)
{
	uint32_t ps = w->agents[c->src].part, pd = w->agents[c->dst].part;
	enum rvm_err err;

	if (c->edge.id != RVM_OBJ_NULL && c->edge_src == ps && c->edge_dst == pd)
		return RVM_OK;
	edge_drop(w, c);
	if (ps == pd)
		return RVM_OK; /* same partition: local */
	err = rvm_edge_create(&w->ipc, RVM_CAP_KERNEL_TABLE, w->pcap[ps], w->pcap[pd], &c->edge);
	if (err != RVM_OK) {
		rvm_memset(&c->edge, 0, sizeof(c->edge));
		return err; /* stays local: still delivered, just not through a kernel edge */
	}
	c->edge_src = ps;
	c->edge_dst = pd;
	return RVM_OK;
}

int32_t rvm_chan_send(struct rvm_agent *a, uint32_t edge, const uint8_t *p, uint32_t len)
{
	struct rvm_world *w = a->w;
	struct rvm_chan *c = &w->chans[a->out[edge]];
	uint32_t slot = c->head & (RVM_CHAN_RING - 1u);
	bool via = false;
	enum rvm_err err;

	if (chan_full(c)) {
		c->refused++;
		return -1;
	}
	if (c->edge.id != RVM_OBJ_NULL) {
		struct rvm_ipc_desc d = { .region = 0, .tag = a->out[edge], .offset = slot,
					  .length = len };

		err = rvm_ipc_send_batched(&w->ipc, c->edge_src, c->edge.send, c->edge.id, &d);
		if (err == RVM_E_FULL) {
			c->refused++;
			return -1;
		}
		if (err != RVM_OK) {
			/* The edge went bad under us (a reshape raced nothing: we hold the
			 * lock), so this is a kernel inconsistency: count it, stay local. */
			w->sig_refused++;
			edge_drop(w, c);
		} else {
			via = true;
		}
	}
	if (!via && rvm_witness_batch_add(&w->k->witness, RVM_ACT_IPC_SEND, a->part, a->out[edge],
					  len) != RVM_OK)
		return -4;
	if (len)
		rvm_memcpy(c->data[slot], p, len);
	c->len[slot] = (uint16_t)len;
	c->via_edge[slot] = via;
	c->head++;
	c->sent++;
	c->bytes += len;
	a->sent++;
	a->bytes_out += len;
	/* Traffic between agents feeds the agent graph (splits, merges); one unit per
	 * message plus its bytes, so empty signals still count. */
	if (RVM_HAS_COHERENCE)
		(void)rvm_coh_observe(&w->coh, c->src, c->dst, 16u + len);
	return 0;
}

bool rvm_agent_has_mail(const struct rvm_agent *a)
{
	for (uint32_t i = 0; i < a->nin; i++) {
		const struct rvm_chan *c = &a->w->chans[a->in[i]];

		if (c->head != c->tail)
			return true;
	}
	return false;
}

int32_t rvm_agent_deliver(struct rvm_agent *a, uint32_t edge, const uint8_t *msg, uint32_t len,
			  uint8_t *p, uint32_t cap)
{
	uint8_t buf[RVM_JOURNAL_RECV_PREFIX + RVM_MSG_MAX];
	uint32_t n = len < cap ? len : cap;

	if (len > RVM_MSG_MAX)
		return -4;
	rvm_store_le32(buf, a->polls);
	if (len)
		rvm_memcpy(buf + RVM_JOURNAL_RECV_PREFIX, msg, len);
	if (rvm_agent_journal(a, RVM_JK_RECV, edge, buf, RVM_JOURNAL_RECV_PREFIX + len) != RVM_OK)
		return -4;
	a->polls = 0;
	if (n)
		rvm_memcpy(p, msg, n);
	a->last_edge = edge;
	return (int32_t)len;
}

int32_t rvm_chan_recv(struct rvm_agent *a, uint8_t *p, uint32_t cap)
{
	struct rvm_world *w = a->w;
	struct rvm_chan *c = NULL;
	uint32_t i, slot, len;

	for (i = 0; i < a->nin; i++) {
		struct rvm_chan *x = &w->chans[a->in[(a->rr + i) % a->nin]];

		if (x->head != x->tail) {
			c = x;
			break;
		}
	}
	if (!c) {
		a->polls++; /* an input too: how many empty polls came before the next message */
		return -1;
	}
	i = (a->rr + i) % a->nin;
	a->rr = (uint8_t)((i + 1) % a->nin);
	slot = c->tail & (RVM_CHAN_RING - 1u);
	len = c->len[slot];
	if (c->via_edge[slot]) {
		struct rvm_ipc_desc d;
		enum rvm_err err = rvm_ipc_recv_batched(&w->ipc, c->edge_dst, c->edge.recv,
							c->edge.id, &d);

		/* The edge's ring mirrors the channel's newest messages, in order. */
		if (err != RVM_OK || d.offset != slot || d.length != len)
			w->sig_refused++;
	}
	if (rvm_agent_deliver(a, i, c->data[slot], len, p, cap) < 0)
		return -4;
	c->via_edge[slot] = 0;
	c->tail++;
	c->received++;
	a->received++;
	w->messages++;
	w->bytes += len;
	return (int32_t)len;
}
