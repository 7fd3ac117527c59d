/* tests/unit/test_lease.c - device leases: grant, use, revoke, expiry witnessed; VMID multiplexing (DC-12). */
#include "support.h"

#include "test_cap_fixture.h"

#include <rvm/lease.h>
#include <rvm/vmid.h>

struct lfix {
	struct cap_fixture *f;
	struct rvm_part_pool pool;
	struct rvm_lease_table leases;
	struct rvm_vmid_table vmids;
};

static struct lfix *lfix_new(void)
{
	struct lfix *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->f = cap_fixture_new();
	rvm_part_pool_init(&x->pool, &x->f->gate);
	rvm_lease_init(&x->leases, &x->pool);
	rvm_vmid_init(&x->vmids, &x->pool);
	return x;
}

static void lfix_free(struct lfix *x)
{
	cap_fixture_free(x->f);
	free(x);
}

static uint32_t new_part(struct lfix *x)
{
	uint32_t slot;
	rvm_obj_id id;
	rvm_cap_t cap;

	assert_int_equal(rvm_partition_create(&x->pool, 0, &slot, &id, &cap), RVM_OK);
	return slot;
}

static void test_lease_grant_use_expire(void **state)
{
	struct lfix *x = lfix_new();
	uint32_t a = new_part(x), b = new_part(x), n = 0;
	rvm_obj_id id, id2;
	rvm_cap_t cap, cap2, ro;
	const struct rvm_witness_record *r;

	(void)state;
	assert_int_equal(rvm_lease_grant(&x->leases, a, 7, 1000, 500, &id, &cap), RVM_OK);
	r = rvm_witness_get(&x->f->wlog, x->f->wlog.next_seq - 2);
	assert_int_equal(r->action, RVM_ACT_LEASE_GRANT);
	assert_int_equal(r->arg0, 7);
	assert_int_equal(r->arg1, 1500);
	assert_int_equal(rvm_lease_check(&x->leases, a, cap, 1000), RVM_OK);
	assert_int_equal(rvm_lease_check(&x->leases, a, cap, 1499), RVM_OK);
	/* Past the expiry the lease is dead before any sweep has run. */
	assert_int_equal(rvm_lease_check(&x->leases, a, cap, 1500), RVM_E_EXPIRED);
	assert_int_equal(cap_fixture_last(x->f)->action, RVM_ACT_GATE_DENIED);
	/* A cap in another partition's table does not make it the holder (P2.4). */
	assert_int_equal(rvm_cap_mint(&x->f->gate, b, RVM_OBJ_LEASE, id, RVM_RIGHT_READ, &ro),
			 RVM_OK);
	assert_int_equal(rvm_lease_check(&x->leases, b, ro, 1000), RVM_E_PERM);
	/* The same device cannot be leased twice. */
	assert_int_equal(rvm_lease_grant(&x->leases, b, 7, 1000, 500, &id2, &cap2), RVM_E_EXISTS);
	/* The sweep: nothing before the expiry, the lease at it, witnessed. */
	assert_int_equal(rvm_lease_expire(&x->leases, 1499, &n), RVM_OK);
	assert_int_equal(n, 0);
	assert_int_equal(rvm_lease_expire(&x->leases, 1500, &n), RVM_OK);
	assert_int_equal(n, 1);
	r = cap_fixture_last(x->f);
	assert_int_equal(r->action, RVM_ACT_LEASE_EXPIRE);
	assert_int_equal(r->target, id);
	assert_int_equal(r->arg0, 7);
	assert_int_equal(r->arg1, 1500);
	assert_int_equal(x->leases.active, 0);
	/* Expired: the cap is stale, and the device is free to lease again. */
	assert_int_equal(rvm_lease_check(&x->leases, a, cap, 1000), RVM_E_STALE);
	assert_int_equal(rvm_lease_grant(&x->leases, b, 7, 2000, 10, &id2, &cap2), RVM_OK);
	assert_true(id2 != id);
	assert_int_equal(rvm_lease_expire(&x->leases, 3000, &n), RVM_OK);
	assert_int_equal(n, 1);
	lfix_free(x);
}

static void test_lease_revoke_and_denials(void **state)
{
	struct lfix *x = lfix_new();
	uint32_t a = new_part(x), b = new_part(x), n;
	rvm_obj_id id, id2;
	rvm_cap_t cap, cap2, weak;

	(void)state;
	assert_int_equal(rvm_lease_grant(&x->leases, a, 1, 0, 0, &id, &cap), RVM_E_INVAL);
	assert_int_equal(rvm_lease_grant(&x->leases, a, 1, UINT64_MAX, 2, &id, &cap),
			 RVM_E_INVAL);
	assert_int_equal(rvm_lease_grant(&x->leases, 0, 1, 0, 10, &id, &cap), RVM_E_STATE);
	assert_int_equal(rvm_lease_grant(&x->leases, a, 1, 0, 100, &id, &cap), RVM_OK);
	/* The holder's table has the cap; from b's table it does not resolve. */
	assert_int_equal(rvm_lease_check(&x->leases, b, cap, 10) != RVM_OK, true);
	/* A derived cap without REVOKE cannot end the lease. */
	assert_int_equal(rvm_cap_derive(&x->f->gate, a, cap, RVM_RIGHT_READ, &weak), RVM_OK);
	assert_int_equal(rvm_lease_check(&x->leases, a, weak, 10), RVM_OK);
	assert_int_equal(rvm_lease_revoke(&x->leases, a, weak), RVM_E_PERM);
	assert_int_equal(rvm_lease_revoke(&x->leases, a, cap), RVM_OK);
	assert_int_equal(cap_fixture_last(x->f)->action, RVM_ACT_LEASE_REVOKE);
	assert_int_equal(cap_fixture_last(x->f)->arg0, 1);
	assert_int_equal(rvm_lease_check(&x->leases, a, weak, 10), RVM_E_STALE);
	assert_int_equal(rvm_lease_revoke(&x->leases, a, cap), RVM_E_STALE);
	assert_int_equal(rvm_lease_expire(&x->leases, 1000, &n), RVM_OK);
	assert_int_equal(n, 0); /* revoked leases do not expire again */
	/* Fill the table: the next grant is refused with NOMEM. */
	for (uint64_t d = 100;; d++) {
		enum rvm_err e = rvm_lease_grant(&x->leases, b, d, 0, 100, &id2, &cap2);

		if (e != RVM_OK) {
			assert_int_equal(e, RVM_E_NOMEM);
			break;
		}
	}
	lfix_free(x);
}

/* More partitions than VMIDs on one CPU: reassignment is witnessed, never shared (DC-12). */
static void test_vmid_multiplexing(void **state)
{
	struct lfix *x = lfix_new();
	enum { N = 300 };
	uint32_t part[N];
	uint16_t v, first[N];
	bool flush;
	uint64_t seq;

	(void)state;
	if (RVM_MAX_PARTITIONS <= RVM_VMIDS)
		skip(); /* the seed profile has fewer partitions than VMIDs */
	for (uint32_t i = 0; i < N; i++)
		part[i] = new_part(x);
	for (uint32_t i = 0; i < RVM_VMIDS; i++) {
		assert_int_equal(rvm_vmid_acquire(&x->vmids, 0, part[i], &first[i], &flush), RVM_OK);
		assert_false(flush);
		assert_int_equal(cap_fixture_last(x->f)->action, RVM_ACT_VMID_ASSIGN);
		assert_int_equal(cap_fixture_last(x->f)->arg1, RVM_VMID_FREE);
	}
	/* Re-acquiring keeps the VMID and writes nothing. */
	seq = x->f->wlog.next_seq;
	assert_int_equal(rvm_vmid_acquire(&x->vmids, 0, part[5], &v, &flush), RVM_OK);
	assert_int_equal(v, first[5]);
	assert_int_equal(x->f->wlog.next_seq, seq);
	/* Partition 256 takes the least recently used VMID: part[0]'s. Witnessed, TLB flushed. */
	assert_int_equal(rvm_vmid_acquire(&x->vmids, 0, part[256], &v, &flush), RVM_OK);
	assert_true(flush);
	assert_int_equal(v, first[0]);
	assert_int_equal(cap_fixture_last(x->f)->action, RVM_ACT_VMID_ASSIGN);
	assert_int_equal(cap_fixture_last(x->f)->target, x->pool.p[part[256]].id);
	assert_int_equal(cap_fixture_last(x->f)->arg0, v);
	assert_int_equal(cap_fixture_last(x->f)->arg1, part[0]);
	assert_int_equal(x->vmids.vmid_of[part[0]][0], RVM_VMID_FREE);
	assert_int_equal(x->vmids.reassigned, 1);
	/* A pseudo-random schedule over two CPUs: the invariants hold after every switch. */
	for (uint32_t k = 0, s = 12345; k < 5000; k++) {
		uint32_t cpu, i;

		s = s * 1103515245u + 12345u;
		cpu = (s >> 8) % (RVM_MAX_CPUS < 2 ? 1 : 2);
		i = (s >> 16) % N;
		assert_int_equal(rvm_vmid_acquire(&x->vmids, cpu, part[i], &v, &flush), RVM_OK);
		assert_int_equal(x->vmids.cpu[cpu].owner[v], part[i]);
		assert_int_equal(x->vmids.cpu[cpu].running, part[i]);
		if ((k & 63) == 0)
			assert_int_equal(rvm_vmid_check_invariants(&x->vmids), RVM_OK);
		/* The witness ring is bounded: drop what the test has checked. */
		if (!rvm_witness_can_emit(&x->f->wlog, 2))
			break;
	}
	assert_int_equal(rvm_vmid_check_invariants(&x->vmids), RVM_OK);
	assert_true(x->vmids.reassigned > 1);
	/* Release frees every VMID of a partition; a dead partition gets none. */
	assert_int_equal(rvm_vmid_release(&x->vmids, part[256]), RVM_OK);
	for (uint32_t c = 0; c < RVM_MAX_CPUS; c++)
		assert_int_equal(x->vmids.vmid_of[part[256]][c], RVM_VMID_FREE);
	assert_int_equal(rvm_vmid_check_invariants(&x->vmids), RVM_OK);
	assert_int_equal(rvm_vmid_acquire(&x->vmids, 0, 0, &v, &flush), RVM_E_STATE);
	assert_int_equal(rvm_vmid_acquire(&x->vmids, RVM_MAX_CPUS, part[1], &v, &flush),
			 RVM_E_RANGE);
	/* A corrupted table is caught by the checker. */
	x->vmids.cpu[0].owner[first[5]] = (uint16_t)part[6];
	assert_int_equal(rvm_vmid_check_invariants(&x->vmids), RVM_E_CORRUPT);
	lfix_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_grant_use_expire),
		cmocka_unit_test(test_lease_revoke_and_denials),
		cmocka_unit_test(test_vmid_multiplexing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
