/* tests/unit/test_ipc.c - CommEdges: gated creation, back-pressure (never a silent drop), weights, denials. */
#include "support.h"

#include "test_cap_fixture.h"

#include <rvm/ipc.h>

struct ifix {
	struct cap_fixture *f;
	struct rvm_part_pool pool;
	struct rvm_ipc ipc;
	uint32_t a, b;
	rvm_cap_t ca, cb;
	struct rvm_edge_caps ec;
};

/* Two running partitions a and b, caps to both in the kernel's table, an edge a -> b. */
static struct ifix *ifix_new(struct rvm_coherence *coh)
{
	struct ifix *x = calloc(1, sizeof(*x));
	rvm_obj_id id;

	assert_non_null(x);
	x->f = cap_fixture_new();
	rvm_part_pool_init(&x->pool, &x->f->gate);
	rvm_ipc_init(&x->ipc, &x->pool, coh);
	assert_int_equal(rvm_partition_create(&x->pool, 0, &x->a, &id, &x->ca), RVM_OK);
	assert_int_equal(rvm_partition_create(&x->pool, 0, &x->b, &id, &x->cb), RVM_OK);
	assert_int_equal(rvm_partition_op(&x->pool, 0, x->ca, RVM_PART_START), RVM_OK);
	assert_int_equal(rvm_partition_op(&x->pool, 0, x->cb, RVM_PART_START), RVM_OK);
	assert_int_equal(rvm_edge_create(&x->ipc, 0, x->ca, x->cb, &x->ec), RVM_OK);
	return x;
}

static void ifix_free(struct ifix *x)
{
	cap_fixture_free(x->f);
	free(x);
}

static void test_ipc_send_recv_fifo_and_weight(void **state)
{
	struct ifix *x = ifix_new(NULL);
	struct rvm_edge *e = rvm_edge_find(&x->ipc, x->ec.id);
	struct rvm_ipc_desc d = { 0 }, got;

	(void)state;
	assert_non_null(e);
	assert_int_equal(e->src, x->a);
	assert_int_equal(e->dst, x->b);
	for (uint32_t i = 0; i < 5; i++) {
		d.tag = i;
		d.length = 100 + i;
		assert_int_equal(rvm_ipc_send(&x->ipc, x->a, x->ec.send, &d), RVM_OK);
		assert_int_equal(cap_fixture_last(x->f)->action, RVM_ACT_IPC_SEND);
		assert_int_equal(cap_fixture_last(x->f)->arg1, i + 1);
	}
	assert_int_equal(e->weight, 100 + 101 + 102 + 103 + 104);
	for (uint32_t i = 0; i < 5; i++) {
		assert_int_equal(rvm_ipc_recv(&x->ipc, x->b, x->ec.recv, &got), RVM_OK);
		assert_int_equal(got.tag, i);
		assert_int_equal(cap_fixture_last(x->f)->action, RVM_ACT_IPC_RECV);
	}
	assert_int_equal(rvm_ipc_recv(&x->ipc, x->b, x->ec.recv, &got), RVM_E_EMPTY);
	ifix_free(x);
}

/* A full ring refuses with RVM_E_FULL, witnessed, counted; nothing queued is lost. */
static void test_ipc_backpressure(void **state)
{
	struct ifix *x = ifix_new(NULL);
	struct rvm_edge *e = rvm_edge_find(&x->ipc, x->ec.id);
	struct rvm_ipc_desc d = { .length = 8 }, got;
	const struct rvm_witness_record *r;

	(void)state;
	for (uint32_t i = 0; i < RVM_IPC_RING; i++) {
		d.tag = i;
		assert_int_equal(rvm_ipc_send(&x->ipc, x->a, x->ec.send, &d), RVM_OK);
	}
	d.tag = 999;
	assert_int_equal(rvm_ipc_send(&x->ipc, x->a, x->ec.send, &d), RVM_E_FULL);
	r = cap_fixture_last(x->f);
	assert_int_equal(r->action, RVM_ACT_GATE_DENIED);
	assert_int_equal(r->arg0, RVM_ACT_IPC_SEND);
	assert_int_equal(r->arg1, RVM_E_FULL);
	assert_int_equal(e->refused, 1);
	assert_int_equal(e->sent, RVM_IPC_RING);
	assert_int_equal(e->weight, 8u * RVM_IPC_RING);
	/* Draining one makes room again; order is intact and the refused one never appears. */
	assert_int_equal(rvm_ipc_recv(&x->ipc, x->b, x->ec.recv, &got), RVM_OK);
	assert_int_equal(got.tag, 0);
	d.tag = 1000;
	assert_int_equal(rvm_ipc_send(&x->ipc, x->a, x->ec.send, &d), RVM_OK);
	for (uint32_t i = 1; i <= RVM_IPC_RING; i++) {
		assert_int_equal(rvm_ipc_recv(&x->ipc, x->b, x->ec.recv, &got), RVM_OK);
		assert_int_equal(got.tag, i < RVM_IPC_RING ? i : 1000);
	}
	assert_int_equal(e->sent, e->received);
	ifix_free(x);
}

static void test_ipc_denials(void **state)
{
	struct ifix *x = ifix_new(NULL);
	struct rvm_ipc_desc d = { .length = 1 }, got;
	struct rvm_edge_caps ec2;
	rvm_cap_t weak;

	(void)state;
	/* Wrong direction: the receiver's READ cap cannot send, the sender cannot receive. */
	assert_int_equal(rvm_ipc_send(&x->ipc, x->b, x->ec.recv, &d), RVM_E_PERM);
	assert_int_equal(rvm_ipc_recv(&x->ipc, x->a, x->ec.send, &got), RVM_E_PERM);
	/* A cap the caller's table does not hold. */
	assert_int_equal(rvm_ipc_send(&x->ipc, x->b, x->ec.send, &d) != RVM_OK, true);
	/* The owner cap holds every right but the kernel is not the edge's source. */
	assert_int_equal(rvm_ipc_send(&x->ipc, 0, x->ec.owner, &d), RVM_E_PERM);
	/* Sender suspended: STATE. */
	assert_int_equal(rvm_partition_op(&x->pool, 0, x->ca, RVM_PART_SUSPEND), RVM_OK);
	assert_int_equal(rvm_ipc_send(&x->ipc, x->a, x->ec.send, &d), RVM_E_STATE);
	assert_int_equal(rvm_partition_op(&x->pool, 0, x->ca, RVM_PART_RESUME), RVM_OK);
	/* Receiver destroyed: STATE. */
	assert_int_equal(rvm_partition_op(&x->pool, 0, x->cb, RVM_PART_SUSPEND), RVM_OK);
	assert_int_equal(rvm_ipc_send(&x->ipc, x->a, x->ec.send, &d), RVM_OK); /* queues */
	assert_int_equal(rvm_partition_op(&x->pool, 0, x->cb, RVM_PART_DESTROY), RVM_OK);
	assert_int_equal(rvm_ipc_send(&x->ipc, x->a, x->ec.send, &d), RVM_E_STATE);
	/* Creation: same partition twice, a dead one, a cap without GRANT. */
	assert_int_equal(rvm_edge_create(&x->ipc, 0, x->ca, x->ca, &ec2), RVM_E_INVAL);
	assert_int_equal(rvm_edge_create(&x->ipc, 0, x->ca, x->cb, &ec2), RVM_E_STALE);
	assert_int_equal(rvm_cap_derive(&x->f->gate, 0, x->ca, RVM_RIGHT_WRITE, &weak), RVM_OK);
	assert_int_equal(rvm_edge_create(&x->ipc, 0, weak, x->ca, &ec2), RVM_E_PERM);
	/* Destroy needs REVOKE; then every cap to the edge is stale. */
	assert_int_equal(rvm_edge_destroy(&x->ipc, x->a, x->ec.send), RVM_E_PERM);
	assert_int_equal(rvm_edge_destroy(&x->ipc, 0, x->ec.owner), RVM_OK);
	assert_int_equal(cap_fixture_last(x->f)->action, RVM_ACT_EDGE_DESTROY);
	assert_null(rvm_edge_find(&x->ipc, x->ec.id));
	assert_int_equal(rvm_ipc_send(&x->ipc, x->a, x->ec.send, &d), RVM_E_STALE);
	assert_int_equal(rvm_ipc_send(NULL, x->a, x->ec.send, &d), RVM_E_INVAL);
	ifix_free(x);
}

/*
 * The batched calls name the edge they mean: the cap is resolved once, by the gate, and must
 * name that edge. A cap to another edge is refused (PERM, witnessed) and changes nothing.
 */
static void test_ipc_batched_names_edge(void **state)
{
	struct ifix *x = ifix_new(NULL);
	struct rvm_edge *e = rvm_edge_find(&x->ipc, x->ec.id);
	struct rvm_ipc_desc d = { .tag = 7, .length = 16 }, got = { 0 };
	struct rvm_edge_caps back;
	uint64_t seq;

	(void)state;
	/* A second edge, b -> a: its caps name another object. */
	assert_int_equal(rvm_edge_create(&x->ipc, 0, x->cb, x->ca, &back), RVM_OK);
	seq = x->f->wlog.next_seq;
	assert_int_equal(rvm_ipc_send_batched(&x->ipc, x->a, x->ec.send, x->ec.id, &d), RVM_OK);
	assert_int_equal(e->head, 1);
	assert_int_equal(x->f->wlog.next_seq, seq); /* in the pending batch, not a record */
	assert_int_equal(x->f->wlog.batch.count, 1);
	/* The right cap, the wrong edge named (and the other way round): refused, witnessed. */
	assert_int_equal(rvm_ipc_send_batched(&x->ipc, x->a, x->ec.send, back.id, &d), RVM_E_PERM);
	assert_int_equal(cap_fixture_last(x->f)->action, RVM_ACT_GATE_DENIED);
	assert_int_equal(cap_fixture_last(x->f)->target, back.id);
	assert_int_equal(rvm_ipc_recv_batched(&x->ipc, x->b, x->ec.recv, back.id, &got), RVM_E_PERM);
	assert_int_equal(rvm_ipc_send_batched(&x->ipc, x->b, back.send, x->ec.id, &d), RVM_E_PERM);
	assert_int_equal(rvm_ipc_send_batched(&x->ipc, x->a, x->ec.send, RVM_OBJ_NULL, &d),
			 RVM_E_INVAL);
	assert_int_equal(e->head, 1);
	assert_int_equal(rvm_edge_find(&x->ipc, back.id)->head, 0);
	/* The receiver's side, named right: the one message, once. */
	assert_int_equal(rvm_ipc_recv_batched(&x->ipc, x->b, x->ec.recv, x->ec.id, &got), RVM_OK);
	assert_int_equal(got.tag, 7);
	assert_int_equal(got.length, 16);
	assert_int_equal(rvm_ipc_recv_batched(&x->ipc, x->b, x->ec.recv, x->ec.id, &got),
			 RVM_E_EMPTY);
	ifix_free(x);
}

/* Each message's size reaches the coherence graph's edge between the two partitions. */
static void test_ipc_feeds_coherence(void **state)
{
	struct rvm_coherence *coh = malloc(sizeof(*coh));
	struct rvm_coh_config cfg;
	struct ifix *x;
	struct rvm_ipc_desc d = { .length = 300 };

	(void)state;
	assert_non_null(coh);
	rvm_coh_config_default(&cfg);
	assert_int_equal(rvm_coh_init(coh, &cfg, 8), RVM_OK);
	x = ifix_new(coh);
	assert_int_equal(rvm_ipc_send(&x->ipc, x->a, x->ec.send, &d), RVM_OK);
	assert_int_equal(rvm_ipc_send(&x->ipc, x->a, x->ec.send, &d), RVM_OK);
	assert_int_equal(coh->graph.w[x->a][x->b], 600);
	ifix_free(x);
	free(coh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipc_send_recv_fifo_and_weight),
		cmocka_unit_test(test_ipc_backpressure),
		cmocka_unit_test(test_ipc_denials),
		cmocka_unit_test(test_ipc_feeds_coherence),
		cmocka_unit_test(test_ipc_batched_names_edge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
