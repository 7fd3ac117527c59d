/* tests/unit/test_split.c - DC-8 split and the cap-moving merge: scored assignment, every denial, rollback at every step. */
#include "support.h"

#include "test_cap_fixture.h"

#include <rvm/reshape.h>

#define ARENA (1024u * 1024u)
#define NFRAMES (ARENA / 4096u)

/*
 * A kernel's worth of partitions, edges and regions. Partition p hosts agents
 * 0..3; agents 2 and 3 are the min-cut side that leaves. x is a peer.
 *   e1: p -> x, p holds send1 (WRITE) and a child of it (sendc);
 *   e2: x -> p, p holds recv2 (READ);
 *   obj: an agent object p holds (root, every right) with a child granted to x;
 *   lease: a lease cap p holds;
 *   r1, r2, r3: regions p owns (r1 used by a leaving agent, r2 by a staying
 *   one, r3 by nobody).
 */
struct sfix {
	struct cap_fixture *f;
	struct rvm_part_pool pool;
	struct rvm_coherence coh;
	struct rvm_ipc ipc;
	struct rvm_buddy buddy;
	struct rvm_buddy_frame bframes[NFRAMES];
	struct rvm_region_frame rframes[NFRAMES];
	struct rvm_region_store store;
	uint8_t store_buf[4096];
	struct rvm_region_space regions;
	uint8_t *arena;
	struct rvm_reshape_work work;
	struct rvm_reshape_env env;
	uint32_t p, x;
	rvm_cap_t cp, cx;
	struct rvm_edge_caps e1, e2;
	rvm_cap_t send1, sendc, recv2, obj, objc, lease;
	rvm_region_id r1, r2, r3;
	struct rvm_split_use use[8];
	struct rvm_split_req req;
};

static uint32_t running(struct sfix *s, rvm_cap_t *cap)
{
	uint32_t slot;
	rvm_obj_id id;

	assert_int_equal(rvm_partition_create(&s->pool, 0, &slot, &id, cap), RVM_OK);
	assert_int_equal(rvm_partition_op(&s->pool, 0, *cap, RVM_PART_START), RVM_OK);
	return slot;
}

static void send_n(struct sfix *s, uint32_t from, rvm_cap_t cap, uint32_t len, int n)
{
	struct rvm_ipc_desc d = { .length = len };
	struct rvm_ipc_desc out;
	struct rvm_edge *e;

	for (int i = 0; i < n; i++) {
		assert_int_equal(rvm_ipc_send(&s->ipc, from, cap, &d), RVM_OK);
		e = NULL;
		for (uint32_t k = 0; k < RVM_IPC_MAX_EDGES && !e; k++)
			if (s->ipc.e[k].id != RVM_OBJ_NULL && s->ipc.e[k].src == from &&
			    s->ipc.e[k].head != s->ipc.e[k].tail)
				e = &s->ipc.e[k];
		assert_non_null(e);
		/* Drain so the ring never fills (the receiver's recv cap is not needed here). */
		out = e->ring[e->tail & (RVM_IPC_RING - 1u)];
		(void)out;
		e->tail++;
	}
}

static struct sfix *sfix_new(void)
{
	struct sfix *s = calloc(1, sizeof(*s));
	struct rvm_coh_config cc;
	struct rvm_phys_range range;
	rvm_obj_id oid;
	rvm_cap_t h;

	assert_non_null(s);
	s->f = cap_fixture_new();
	rvm_part_pool_init(&s->pool, &s->f->gate);
	rvm_coh_config_default(&cc);
	assert_int_equal(rvm_coh_init(&s->coh, &cc, 64), RVM_OK);
	rvm_ipc_init(&s->ipc, &s->pool, &s->coh);
	s->arena = aligned_alloc(ARENA, ARENA);
	assert_non_null(s->arena);
	range.base = (uint64_t)(uintptr_t)s->arena;
	range.size = ARENA;
	assert_int_equal(rvm_buddy_init(&s->buddy, s->bframes, NFRAMES, &range, 1), RVM_OK);
	rvm_region_store_init(&s->store, s->store_buf, sizeof(s->store_buf));
	assert_int_equal(rvm_region_space_init(&s->regions, &s->buddy, s->rframes, NFRAMES,
					       &s->store, &s->f->wlog, &s->f->plat),
			 RVM_OK);
	s->env = (struct rvm_reshape_env){ .pp = &s->pool, .coh = &s->coh, .ipc = &s->ipc,
					   .regions = &s->regions, .work = &s->work };
	s->p = running(s, &s->cp);
	s->x = running(s, &s->cx);
	s->pool.p[s->p].agents = 4;
	/* Edges, with caps in p's table. */
	assert_int_equal(rvm_edge_create(&s->ipc, 0, s->cp, s->cx, &s->e1), RVM_OK);
	assert_int_equal(rvm_edge_create(&s->ipc, 0, s->cx, s->cp, &s->e2), RVM_OK);
	s->send1 = s->e1.send;
	s->recv2 = s->e2.recv;
	assert_int_equal(rvm_cap_derive(&s->f->gate, s->p, s->send1, RVM_RIGHT_WRITE, &s->sendc),
			 RVM_OK);
	/* An agent object with a child in x's table, and a lease. */
	s->obj = cap_fixture_root(s->f, s->p, RVM_OBJ_AGENT, RVM_RIGHTS_ALL, &oid);
	assert_int_equal(rvm_cap_grant(&s->f->gate, s->p, s->obj, s->x, RVM_RIGHT_READ, &s->objc),
			 RVM_OK);
	s->lease = cap_fixture_root(s->f, s->p, RVM_OBJ_LEASE, RVM_RIGHTS_ALL, NULL);
	/* A cap of p's table nobody uses (stays), to a partition. */
	assert_int_equal(rvm_cap_grant(&s->f->gate, 0, s->cx, s->p, RVM_RIGHT_READ, &h), RVM_OK);
	/* Regions. */
	assert_int_equal(rvm_region_create(&s->regions, 0, s->p, 8192, RVM_REGION_DATA, true, 0,
					   &s->r1), RVM_OK);
	assert_int_equal(rvm_region_create(&s->regions, 0, s->p, 4096, RVM_REGION_DATA, true, 0,
					   &s->r2), RVM_OK);
	assert_int_equal(rvm_region_create(&s->regions, 0, s->p, 4096, RVM_REGION_DATA, true, 0,
					   &s->r3), RVM_OK);
	s->pool.p[s->p].mem_bytes = 16384;
	/* Traffic both ways. */
	send_n(s, s->p, s->send1, 1000, 3);
	send_n(s, s->x, s->e2.send, 500, 2);
	/* Who uses what. */
	s->use[0] = (struct rvm_split_use){ s->send1, 2, 10, RVM_USE_CAP };
	s->use[1] = (struct rvm_split_use){ s->send1, 0, 3, RVM_USE_CAP };
	s->use[2] = (struct rvm_split_use){ s->sendc, 0, 5, RVM_USE_CAP }; /* same object: 8 < 10 */
	s->use[3] = (struct rvm_split_use){ s->recv2, 1, 7, RVM_USE_CAP };
	s->use[4] = (struct rvm_split_use){ s->obj, 3, 2, RVM_USE_CAP };
	s->use[5] = (struct rvm_split_use){ s->lease, 3, 50, RVM_USE_CAP }; /* pinned: stays */
	s->use[6] = (struct rvm_split_use){ s->r1, 2, 4, RVM_USE_REGION };
	s->use[7] = (struct rvm_split_use){ s->r2, 0, 4, RVM_USE_REGION };
	s->req.cap = s->cp;
	for (uint32_t a = 0; a < 4; a++)
		rvm_nodeset_add(&s->req.members, a);
	rvm_nodeset_add(&s->req.move, 2);
	rvm_nodeset_add(&s->req.move, 3);
	s->req.use = s->use;
	s->req.nuse = 8;
	s->req.cut_weight = 77;
	return s;
}

static void sfix_free(struct sfix *s)
{
	free(s->arena);
	cap_fixture_free(s->f);
	free(s);
}

static rvm_cap_t moved(struct sfix *s, uint32_t table, rvm_cap_t old, uint32_t want_table)
{
	uint32_t t;
	rvm_cap_t h;

	assert_int_equal(rvm_cap_moves_find(&s->work.moves, table, old, &t, &h), RVM_OK);
	assert_int_equal(t, want_table);
	return h;
}

static void test_split_applies(void **state)
{
	struct sfix *s;
	struct rvm_split_result out;
	struct rvm_ipc_desc d = { .length = 64 }, got;
	struct rvm_edge *e1, *e2;
	const struct rvm_cap *c;
	uint32_t before_px, t;
	rvm_cap_t h, send_q, obj_q;
	const struct rvm_witness_record *r;

	(void)state;
	if (!RVM_HAS_COHERENCE || RVM_MAX_PARTITIONS < 8)
		skip();
	s = sfix_new();
	before_px = s->coh.graph.w[s->p][s->x];
	assert_true(before_px > 0);
	assert_int_equal(rvm_partition_split(&s->env, 0, &s->req, &out), RVM_OK);
	r = cap_fixture_last(s->f);
	assert_int_equal(r->action, RVM_ACT_PARTITION_SPLIT);
	assert_int_equal(r->arg0, s->p);
	assert_int_equal(r->arg1, out.slot);
	/* The new partition: running, two agents, r1's memory, a root cap for the caller. */
	assert_non_null(rvm_partition_find(&s->pool, out.id));
	assert_int_equal(s->pool.p[out.slot].state, RVM_PART_RUNNING);
	assert_int_equal(s->pool.p[out.slot].agents, 2);
	assert_int_equal(s->pool.p[s->p].agents, 2);
	assert_int_equal(s->pool.p[out.slot].mem_bytes, 8192);
	assert_int_equal(s->pool.p[s->p].mem_bytes, 8192);
	assert_int_equal(rvm_cap_resolve(&s->f->caps, 0, out.cap, &c), RVM_OK);
	assert_int_equal(c->object, out.id);
	/* send1 + sendc (one object, 10 > 8) and obj (2 > 0) moved; recv2, the lease, the unused stay. */
	assert_int_equal(out.caps, 3);
	assert_int_equal(out.regions, 1);
	assert_int_equal(out.edges, 1);
	assert_int_equal(out.agents, 2);
	send_q = moved(s, s->p, s->send1, out.slot);
	(void)moved(s, s->p, s->sendc, out.slot);
	obj_q = moved(s, s->p, s->obj, out.slot);
	assert_int_equal(rvm_cap_moves_find(&s->work.moves, s->p, s->recv2, &t, &h), RVM_E_NOTFOUND);
	assert_int_equal(rvm_cap_moves_find(&s->work.moves, s->p, s->lease, &t, &h), RVM_E_NOTFOUND);
	assert_int_equal(rvm_cap_resolve(&s->f->caps, s->p, s->send1, &c), RVM_E_STALE);
	assert_int_equal(rvm_cap_resolve(&s->f->caps, s->p, s->recv2, &c), RVM_OK);
	assert_int_equal(rvm_cap_resolve(&s->f->caps, s->p, s->lease, &c), RVM_OK);
	/* e1 now starts at the new partition: it sends with its new handle, p cannot. */
	e1 = rvm_edge_find(&s->ipc, s->e1.id);
	e2 = rvm_edge_find(&s->ipc, s->e2.id);
	assert_int_equal(e1->src, out.slot);
	assert_int_equal(e2->dst, s->p);
	assert_int_equal(rvm_ipc_send(&s->ipc, out.slot, send_q, &d), RVM_OK);
	assert_int_equal(rvm_ipc_recv(&s->ipc, s->x, s->e1.recv, &got), RVM_OK);
	assert_int_equal(got.length, 64);
	assert_int_not_equal(rvm_ipc_send(&s->ipc, s->p, s->send1, &d), RVM_OK);
	/* Regions followed their users. */
	assert_int_equal(rvm_region_get(&s->regions, s->r1)->owner, out.slot);
	assert_int_equal(rvm_region_get(&s->regions, s->r2)->owner, s->p);
	assert_int_equal(rvm_region_get(&s->regions, s->r3)->owner, s->p);
	/* The derivation tree is intact across tables: x's child of obj passes P3, and
	 * revoking the moved parent (now in the new table) takes the child with it. */
	assert_int_equal(rvm_cap_check_invariants(&s->f->caps), RVM_OK);
	assert_int_equal(rvm_proof_p3(&s->f->caps, s->x, s->objc), RVM_OK);
	assert_int_equal(rvm_proof_p3(&s->f->caps, out.slot, obj_q), RVM_OK);
	assert_int_equal(rvm_cap_revoke(&s->f->gate, out.slot, obj_q), RVM_OK);
	assert_int_equal(rvm_cap_resolve(&s->f->caps, s->x, s->objc, &c), RVM_E_REVOKED);
	/* The graph: p-x traffic shared by edge weight (e1 moved 3000 + 64 of 4000), cut seeded. */
	assert_int_equal(s->coh.graph.w[s->p][out.slot], 77);
	assert_true(s->coh.graph.w[out.slot][s->x] > 0);
	assert_true(s->coh.graph.w[out.slot][s->x] > s->coh.graph.w[s->p][s->x]);
	assert_int_equal(rvm_mincut_graph_check(&s->coh.graph), RVM_OK);
	sfix_free(s);
}

/* A refused split changes nothing and the refusal is witnessed. */
static void expect_denied(struct sfix *s, uint32_t caller, const struct rvm_split_req *rq,
			  enum rvm_err want)
{
	struct rvm_split_result out;
	uint32_t live = s->pool.live, plive = s->f->caps.tables[s->p].live;
	uint64_t seq = s->f->wlog.next_seq;

	assert_int_equal(rvm_partition_split(&s->env, caller, rq, &out), want);
	assert_int_equal(s->pool.live, live);
	assert_int_equal(s->f->caps.tables[s->p].live, plive);
	assert_int_equal(s->pool.p[s->p].agents, 4);
	assert_int_equal(rvm_region_get(&s->regions, s->r1)->owner, s->p);
	assert_int_equal(rvm_edge_find(&s->ipc, s->e1.id)->src, s->p);
	assert_true(s->f->wlog.next_seq > seq);
	assert_int_equal(cap_fixture_last(s->f)->flags & RVM_WF_DENIED, RVM_WF_DENIED);
	assert_int_equal(cap_fixture_last(s->f)->arg1, (uint64_t)want);
}

static void test_split_preconditions(void **state)
{
	struct sfix *s;
	struct rvm_split_req rq;
	struct rvm_split_use bad;
	struct rvm_split_result out;
	rvm_cap_t weak, ccreated, chib;
	uint64_t flushed;
	uint32_t slot;
	rvm_obj_id id;

	(void)state;
	if (!RVM_HAS_COHERENCE || RVM_MAX_PARTITIONS < 8)
		skip();
	s = sfix_new();
	/* Bad arguments: not witnessed, nothing to name. */
	assert_int_equal(rvm_partition_split(NULL, 0, &s->req, &out), RVM_E_INVAL);
	assert_int_equal(rvm_partition_split(&s->env, 0, NULL, &out), RVM_E_INVAL);
	assert_int_equal(rvm_partition_split(&s->env, 0, &s->req, NULL), RVM_E_INVAL);
	assert_int_equal(rvm_partition_split(&s->env, RVM_CAP_TABLES, &s->req, &out), RVM_E_INVAL);
	s->env.work = NULL;
	assert_int_equal(rvm_partition_split(&s->env, 0, &s->req, &out), RVM_E_INVAL);
	s->env.work = &s->work;
	rq = s->req;
	rq.use = NULL;
	assert_int_equal(rvm_partition_split(&s->env, 0, &rq, &out), RVM_E_INVAL);
	/* P1: a cap without GRANT, and a cap that is not there. */
	assert_int_equal(rvm_cap_derive(&s->f->gate, 0, s->cp, RVM_RIGHT_WRITE, &weak), RVM_OK);
	rq = s->req;
	rq.cap = weak;
	expect_denied(s, 0, &rq, RVM_E_PERM);
	assert_int_equal(cap_fixture_last(s->f)->action, RVM_ACT_CAP_DENIED);
	rq.cap = rvm_handle_make(999, 7);
	expect_denied(s, 0, &rq, RVM_E_STALE);
	/* A cap to something that is not a partition. */
	rq.cap = s->e1.owner;
	expect_denied(s, 0, &rq, RVM_E_PERM);
	/* Degraded engine: no reshaping (DC-6). */
	s->coh.degraded = true;
	expect_denied(s, 0, &s->req, RVM_E_DEGRADED);
	s->coh.degraded = false;
	/* Wrong states: Created, Hibernated. */
	assert_int_equal(rvm_partition_create(&s->pool, 0, &slot, &id, &ccreated), RVM_OK);
	s->pool.p[slot].agents = 4;
	rq = s->req;
	rq.cap = ccreated;
	rq.nuse = 0;
	expect_denied(s, 0, &rq, RVM_E_STATE);
	assert_int_equal(rvm_partition_create(&s->pool, 0, &slot, &id, &chib), RVM_OK);
	assert_int_equal(rvm_partition_op(&s->pool, 0, chib, RVM_PART_START), RVM_OK);
	assert_int_equal(rvm_partition_op(&s->pool, 0, chib, RVM_PART_SUSPEND), RVM_OK);
	assert_int_equal(rvm_partition_op(&s->pool, 0, chib, RVM_PART_HIBERNATE), RVM_OK);
	s->pool.p[slot].agents = 4;
	rq.cap = chib;
	expect_denied(s, 0, &rq, RVM_E_STATE);
	/* Migrating. */
	s->pool.p[s->p].migrating = 1;
	expect_denied(s, 0, &s->req, RVM_E_BUSY);
	s->pool.p[s->p].migrating = 0;
	/* The agent sets: empty move, everyone moves, move outside members, wrong count. */
	rq = s->req;
	memset(&rq.move, 0, sizeof(rq.move));
	expect_denied(s, 0, &rq, RVM_E_INVAL);
	rq.move = rq.members;
	expect_denied(s, 0, &rq, RVM_E_INVAL);
	rq = s->req;
	rvm_nodeset_add(&rq.move, 9);
	expect_denied(s, 0, &rq, RVM_E_INVAL);
	rq = s->req;
	rvm_nodeset_add(&rq.members, 9);
	expect_denied(s, 0, &rq, RVM_E_INVAL);
	/* Use entries: unknown kind, agent outside, a cap or region p does not hold. */
	rq = s->req;
	rq.use = &bad;
	rq.nuse = 1;
	bad = (struct rvm_split_use){ s->send1, 2, 1, 9 };
	expect_denied(s, 0, &rq, RVM_E_INVAL);
	bad = (struct rvm_split_use){ s->send1, 7, 1, RVM_USE_CAP };
	expect_denied(s, 0, &rq, RVM_E_INVAL);
	bad = (struct rvm_split_use){ rvm_handle_make(RVM_CAP_TABLE_SLOTS - 1u, 5), 2, 1,
				      RVM_USE_CAP }; /* no such cap in p's table */
	expect_denied(s, 0, &rq, RVM_E_NOTFOUND);
	bad = (struct rvm_split_use){ rvm_handle_make(77, 3), 2, 1, RVM_USE_REGION };
	expect_denied(s, 0, &rq, RVM_E_NOTFOUND);
	/* A region that would move is mapped. */
	assert_int_equal(rvm_region_map(&s->regions, 0, s->r1, s->p, true), RVM_OK);
	expect_denied(s, 0, &s->req, RVM_E_BUSY);
	assert_int_equal(rvm_region_unmap(&s->regions, 0, s->r1, s->p), RVM_OK);
	/* The witness log cannot take every record of the split and its undo: a failed sink with
	 * a nearly full ring. */
	flushed = s->f->wlog.flushed_seq;
	s->f->wlog.has_sink = true;
	s->f->wlog.sink_err = RVM_E_IO;
	s->f->wlog.flushed_seq = s->f->wlog.next_seq - (RVM_WITNESS_RING_RECORDS - 10u);
	assert_int_equal(rvm_partition_split(&s->env, 0, &s->req, &out), RVM_E_FULL);
	s->f->wlog.has_sink = false;
	s->f->wlog.sink_err = RVM_OK;
	s->f->wlog.flushed_seq = flushed;
	assert_int_equal(cap_fixture_last(s->f)->arg1, RVM_E_FULL);
	assert_int_equal(s->pool.p[s->p].agents, 4);
	/* No free partition slot: the first step fails, nothing was done, the abort is witnessed. */
	for (;;) {
		rvm_cap_t c;

		if (rvm_partition_create(&s->pool, 0, &slot, &id, &c) != RVM_OK)
			break;
	}
	assert_int_equal(rvm_partition_split(&s->env, 0, &s->req, &out), RVM_E_NOMEM);
	assert_int_equal(cap_fixture_last(s->f)->action, RVM_ACT_SPLIT_ABORT);
	assert_int_equal(cap_fixture_last(s->f)->arg1, RVM_E_NOMEM);
	assert_int_equal(s->pool.p[s->p].agents, 4);
	assert_int_equal(rvm_cap_check_invariants(&s->f->caps), RVM_OK);
	sfix_free(s);
}

/* Everything a rolled-back split must leave exactly as it was. */
struct snap {
	struct rvm_cap_table tp, tx;
	struct rvm_edge edges[4];
	struct rvm_region regs[4];
	struct rvm_partition part;
	uint32_t live, w_px;
};

static void take_snap(struct sfix *s, struct snap *n)
{
	memcpy(&n->tp, &s->f->caps.tables[s->p], sizeof(n->tp));
	memcpy(&n->tx, &s->f->caps.tables[s->x], sizeof(n->tx));
	memcpy(n->edges, s->ipc.e, sizeof(n->edges));
	memcpy(n->regs, s->regions.slots, sizeof(n->regs));
	n->part = s->pool.p[s->p];
	n->live = s->pool.live;
	n->w_px = s->coh.graph.w[s->p][s->x];
}

static void test_split_rollback_every_step(void **state)
{
	struct sfix *s;
	struct snap *a, *b;
	struct rvm_split_result out;
	const struct rvm_witness_record *r;
	enum rvm_err e;
	uint32_t k;

	(void)state;
	if (!RVM_HAS_COHERENCE || RVM_MAX_PARTITIONS < 8)
		skip();
	s = sfix_new();
	a = calloc(1, sizeof(*a));
	b = calloc(1, sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	take_snap(s, a);
	for (k = 1;; k++) {
		s->env.fault_step = k;
		e = rvm_partition_split(&s->env, 0, &s->req, &out);
		if (e == RVM_OK)
			break;
		assert_int_equal(e, RVM_E_IO);
		r = cap_fixture_last(s->f);
		assert_int_equal(r->action, RVM_ACT_SPLIT_ABORT);
		assert_int_equal(r->arg0, k);
		assert_int_equal(r->arg1, RVM_E_IO);
		take_snap(s, b);
		/* Byte for byte: caps back in their slots (old handles work), edges, regions. */
		assert_memory_equal(&a->tp, &b->tp, sizeof(a->tp));
		assert_memory_equal(&a->tx, &b->tx, sizeof(a->tx));
		assert_memory_equal(a->edges, b->edges, sizeof(a->edges));
		assert_memory_equal(a->regs, b->regs, sizeof(a->regs));
		assert_memory_equal(&a->part, &b->part, sizeof(a->part));
		assert_int_equal(a->live, b->live);
		assert_int_equal(a->w_px, b->w_px);
		assert_int_equal(rvm_cap_check_invariants(&s->f->caps), RVM_OK);
		assert_int_equal(rvm_proof_p3(&s->f->caps, s->x, s->objc), RVM_OK);
		assert_true(k < 64);
	}
	/* create, start, 3 caps, 1 region, 1 edge, the split record: 8 steps, each failed once. */
	assert_int_equal(k, 9);
	assert_int_equal(out.caps, 3);
	assert_int_equal(rvm_cap_check_invariants(&s->f->caps), RVM_OK);
	free(a);
	free(b);
	sfix_free(s);
}

/* A partition splitting itself: the new partition's cap lands in its own table, between the
 * caps that move out of it; rollback still puts every cap back in its slot. */
static void test_split_self_rollback(void **state)
{
	struct sfix *s;
	struct snap *a, *b;
	struct rvm_split_result out;
	const struct rvm_cap *c;
	rvm_cap_t self;
	enum rvm_err e;
	uint32_t k;

	(void)state;
	if (!RVM_HAS_COHERENCE || RVM_MAX_PARTITIONS < 8)
		skip();
	s = sfix_new();
	assert_int_equal(rvm_cap_grant(&s->f->gate, 0, s->cp, s->p,
				       RVM_RIGHT_WRITE | RVM_RIGHT_GRANT, &self),
			 RVM_OK);
	/* Free a slot in p's table first, so the new partition's cap reuses it. */
	assert_int_equal(rvm_cap_delete(&s->f->gate, s->p, s->lease), RVM_OK);
	s->req.cap = self;
	s->req.nuse = 5; /* the lease's use entry is gone with it */
	a = calloc(1, sizeof(*a));
	b = calloc(1, sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	take_snap(s, a);
	for (k = 1;; k++) {
		s->env.fault_step = k;
		e = rvm_partition_split(&s->env, s->p, &s->req, &out);
		if (e == RVM_OK)
			break;
		assert_int_equal(e, RVM_E_IO);
		take_snap(s, b);
		assert_int_equal(a->tp.live, b->tp.live);
		/* Every cap p held is back with its old handle. */
		for (uint32_t i = 0; i < a->tp.hw; i++)
			if (a->tp.slots[i].state == RVM_CAPS_LIVE)
				assert_memory_equal(&a->tp.slots[i], &b->tp.slots[i],
						    sizeof(a->tp.slots[i]));
		assert_memory_equal(&a->tx, &b->tx, sizeof(a->tx));
		assert_int_equal(rvm_cap_check_invariants(&s->f->caps), RVM_OK);
		assert_true(k < 64);
	}
	assert_int_equal(out.caps, 3);
	/* The new partition's root cap is p's, in p's table. */
	assert_int_equal(rvm_cap_resolve(&s->f->caps, s->p, out.cap, &c), RVM_OK);
	assert_int_equal(c->object, out.id);
	assert_int_equal(rvm_cap_check_invariants(&s->f->caps), RVM_OK);
	free(a);
	free(b);
	sfix_free(s);
}

/* A suspended partition splits into two suspended ones. */
static void test_split_suspended(void **state)
{
	struct sfix *s;
	struct rvm_split_result out;

	(void)state;
	if (!RVM_HAS_COHERENCE || RVM_MAX_PARTITIONS < 8)
		skip();
	s = sfix_new();
	assert_int_equal(rvm_partition_op(&s->pool, 0, s->cp, RVM_PART_SUSPEND), RVM_OK);
	s->req.nuse = 0; /* nothing used: every cap and region stays */
	assert_int_equal(rvm_partition_split(&s->env, 0, &s->req, &out), RVM_OK);
	assert_int_equal(s->pool.p[out.slot].state, RVM_PART_SUSPENDED);
	assert_int_equal(out.caps, 0);
	assert_int_equal(out.regions, 0);
	assert_int_equal(out.edges, 0);
	assert_int_equal(s->pool.p[out.slot].mem_bytes, 0);
	assert_int_equal(rvm_partition_op(&s->pool, 0, out.cap, RVM_PART_RESUME), RVM_OK);
	sfix_free(s);
}

/* ---- merge moves caps ---- */

static void test_merge_moves_caps(void **state)
{
	struct sfix *s;
	struct rvm_merge_limits lim = { .max_agents = 16, .max_mem_bytes = 1u << 20,
					.min_mutual = 1000 };
	struct rvm_ipc_desc d = { .length = 8 }, got;
	const struct rvm_cap *c;
	uint32_t plive, xlive, t;
	rvm_cap_t send_x, obj_x, h;

	(void)state;
	if (!RVM_HAS_COHERENCE || RVM_MAX_PARTITIONS < 8)
		skip();
	s = sfix_new();
	/* Merge p (from) into x (into): x absorbs p's caps, regions and edges. */
	plive = s->f->caps.tables[s->p].live;
	xlive = s->f->caps.tables[s->x].live;
	assert_int_equal(rvm_partition_merge_env(&s->env, 0, s->cp, s->cx, &lim), RVM_OK);
	/* Every cap but the lease moved; the lease went with p's table. */
	assert_int_equal(s->work.moves.n, plive - 1);
	assert_int_equal(s->f->caps.tables[s->x].live, xlive + plive - 1);
	assert_int_equal(s->f->caps.tables[s->p].live, 0);
	assert_int_equal(cap_fixture_last(s->f)->action, RVM_ACT_CAP_REVOKE);
	assert_int_equal(rvm_cap_check_invariants(&s->f->caps), RVM_OK);
	/* Holders keep working caps: p's send cap on e1 sends from x now (e1 is internal). */
	send_x = moved(s, s->p, s->send1, s->x);
	assert_int_equal(rvm_edge_find(&s->ipc, s->e1.id)->src, s->x);
	assert_int_equal(rvm_edge_find(&s->ipc, s->e1.id)->dst, s->x);
	assert_int_equal(rvm_ipc_send(&s->ipc, s->x, send_x, &d), RVM_OK);
	assert_int_equal(rvm_ipc_recv(&s->ipc, s->x, s->e1.recv, &got), RVM_OK);
	h = moved(s, s->p, s->recv2, s->x);
	assert_int_equal(rvm_ipc_send(&s->ipc, s->x, s->e2.send, &d), RVM_OK);
	assert_int_equal(rvm_ipc_recv(&s->ipc, s->x, h, &got), RVM_OK);
	/* The tree: obj moved with its child, the child passes P3, revoking obj revokes it. */
	obj_x = moved(s, s->p, s->obj, s->x);
	assert_int_equal(rvm_proof_p3(&s->f->caps, s->x, s->objc), RVM_OK);
	assert_int_equal(rvm_cap_revoke(&s->f->gate, s->x, obj_x), RVM_OK);
	assert_int_equal(rvm_cap_resolve(&s->f->caps, s->x, s->objc, &c), RVM_E_REVOKED);
	/* The moved sendc is still a child of the moved send1. */
	h = moved(s, s->p, s->sendc, s->x);
	assert_int_equal(rvm_cap_resolve(&s->f->caps, s->x, h, &c), RVM_OK);
	assert_int_equal(c->parent, rvm_cap_ref(s->x, rvm_handle_slot(send_x)));
	/* Regions went with the agents. */
	assert_int_equal(rvm_region_get(&s->regions, s->r1)->owner, s->x);
	assert_int_equal(rvm_region_get(&s->regions, s->r3)->owner, s->x);
	assert_int_equal(rvm_cap_moves_find(&s->work.moves, s->p, s->lease, &t, &h), RVM_E_NOTFOUND);
	sfix_free(s);
}

static void test_merge_rollback_every_step(void **state)
{
	struct sfix *s;
	struct snap *a, *b;
	struct rvm_merge_limits lim = { .max_agents = 16, .max_mem_bytes = 1u << 20,
					.min_mutual = 1000 };
	enum rvm_err e;
	uint32_t k;

	(void)state;
	if (!RVM_HAS_COHERENCE || RVM_MAX_PARTITIONS < 8)
		skip();
	s = sfix_new();
	a = calloc(1, sizeof(*a));
	b = calloc(1, sizeof(*b));
	assert_non_null(a);
	assert_non_null(b);
	take_snap(s, a);
	for (k = 1;; k++) {
		s->env.fault_step = k;
		e = rvm_partition_merge_env(&s->env, 0, s->cp, s->cx, &lim);
		if (e == RVM_OK)
			break;
		assert_int_equal(e, RVM_E_IO);
		assert_int_equal(cap_fixture_last(s->f)->action, RVM_ACT_GATE_DENIED);
		take_snap(s, b);
		assert_memory_equal(&a->tp, &b->tp, sizeof(a->tp));
		/* into's table: its own caps as they were; the slots the moves used are free again. */
		assert_memory_equal(a->tx.slots, b->tx.slots, a->tx.hw * sizeof(a->tx.slots[0]));
		assert_int_equal(a->tx.live, b->tx.live);
		assert_memory_equal(a->edges, b->edges, sizeof(a->edges));
		assert_memory_equal(a->regs, b->regs, sizeof(a->regs));
		assert_memory_equal(&a->part, &b->part, sizeof(a->part));
		assert_int_equal(rvm_cap_check_invariants(&s->f->caps), RVM_OK);
		assert_true(k < 64);
	}
	/* 6 movable caps, 3 regions, 2 edges, the merge record. */
	assert_int_equal(k, 12);
	assert_null(rvm_partition_find(&s->pool, a->part.id));
	free(a);
	free(b);
	sfix_free(s);
}

/* The plain merge (no work area) moves caps too; nothing of from's table is revoked but leases. */
static void test_merge_plain_moves(void **state)
{
	struct sfix *s;
	struct rvm_merge_limits lim = { .max_agents = 16, .max_mem_bytes = 1u << 20,
					.min_mutual = 1000 };
	uint32_t plive, xlive;

	(void)state;
	if (!RVM_HAS_COHERENCE || RVM_MAX_PARTITIONS < 8)
		skip();
	s = sfix_new();
	plive = s->f->caps.tables[s->p].live;
	xlive = s->f->caps.tables[s->x].live;
	assert_int_equal(rvm_partition_merge(&s->pool, &s->coh, 0, s->cp, s->cx, &lim), RVM_OK);
	assert_int_equal(s->f->caps.tables[s->x].live, xlive + plive - 1);
	assert_int_equal(rvm_proof_p3(&s->f->caps, s->x, s->objc), RVM_OK);
	assert_int_equal(rvm_cap_check_invariants(&s->f->caps), RVM_OK);
	sfix_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_applies),
		cmocka_unit_test(test_split_preconditions),
		cmocka_unit_test(test_split_rollback_every_step),
		cmocka_unit_test(test_split_self_rollback),
		cmocka_unit_test(test_split_suspended),
		cmocka_unit_test(test_merge_moves_caps),
		cmocka_unit_test(test_merge_rollback_every_step),
		cmocka_unit_test(test_merge_plain_moves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
