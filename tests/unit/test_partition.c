/* tests/unit/test_partition.c - the partition pool: create, every lifecycle move (legal and not), stale ids. */
#include "support.h"

#include "test_cap_fixture.h"

#include <rvm/partition.h>

struct pfix {
	struct cap_fixture *f;
	struct rvm_part_pool pool;
};

static struct pfix *pfix_new(void)
{
	struct pfix *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->f = cap_fixture_new();
	rvm_part_pool_init(&x->pool, &x->f->gate);
	return x;
}

static void pfix_free(struct pfix *x)
{
	cap_fixture_free(x->f);
	free(x);
}

/* The legal moves, written out independently of kernel/partition.c's table. */
static bool legal(uint8_t from, enum rvm_part_op op, uint8_t *to)
{
	switch (op) {
	case RVM_PART_START: *to = RVM_PART_RUNNING; return from == RVM_PART_CREATED;
	case RVM_PART_SUSPEND: *to = RVM_PART_SUSPENDED; return from == RVM_PART_RUNNING;
	case RVM_PART_RESUME: *to = RVM_PART_RUNNING; return from == RVM_PART_SUSPENDED;
	case RVM_PART_HIBERNATE: *to = RVM_PART_HIBERNATED; return from == RVM_PART_SUSPENDED;
	case RVM_PART_WAKE: *to = RVM_PART_SUSPENDED; return from == RVM_PART_HIBERNATED;
	case RVM_PART_DESTROY:
		*to = RVM_PART_DESTROYED;
		return from == RVM_PART_CREATED || from == RVM_PART_SUSPENDED ||
		       from == RVM_PART_HIBERNATED;
	default: return false;
	}
}

/* Ops that walk a fresh partition into state s. */
static void drive_to(struct pfix *x, rvm_cap_t cap, uint8_t s)
{
	static const enum rvm_part_op path[] = { RVM_PART_START, RVM_PART_SUSPEND,
						 RVM_PART_HIBERNATE };
	uint32_t steps = s == RVM_PART_CREATED ? 0 : s == RVM_PART_RUNNING ? 1 :
			 s == RVM_PART_SUSPENDED ? 2 : 3;

	for (uint32_t i = 0; i < steps; i++)
		assert_int_equal(rvm_partition_op(&x->pool, 0, cap, path[i]), RVM_OK);
}

static void test_part_next_state_pure(void **state)
{
	uint8_t to = 0;

	(void)state;
	for (uint8_t from = 0; from < RVM_PART_STATE_COUNT; from++)
		for (int op = 0; op < RVM_PART_OP_COUNT; op++) {
			uint8_t want;
			bool ok = legal(from, (enum rvm_part_op)op, &want);
			enum rvm_err e = rvm_part_next_state(from, (enum rvm_part_op)op, &to);

			assert_int_equal(e, ok ? RVM_OK : RVM_E_STATE);
			if (ok)
				assert_int_equal(to, want);
		}
	assert_int_equal(rvm_part_next_state(RVM_PART_STATE_COUNT, RVM_PART_START, &to),
			 RVM_E_INVAL);
	assert_int_equal(rvm_part_next_state(0, RVM_PART_OP_COUNT, &to), RVM_E_INVAL);
}

/* Every (reachable state, op) pair through the gate: legal moves witnessed, the rest refused. */
static void test_part_every_transition(void **state)
{
	static const uint8_t reach[] = { RVM_PART_CREATED, RVM_PART_RUNNING, RVM_PART_SUSPENDED,
					 RVM_PART_HIBERNATED };

	(void)state;
	for (size_t s = 0; s < sizeof(reach); s++)
		for (int op = 0; op < RVM_PART_OP_COUNT; op++) {
			struct pfix *x = pfix_new();
			uint32_t slot;
			rvm_obj_id id;
			rvm_cap_t cap;
			uint8_t want;
			bool ok = legal(reach[s], (enum rvm_part_op)op, &want);
			const struct rvm_witness_record *r;

			assert_int_equal(rvm_partition_create(&x->pool, 0, &slot, &id, &cap), RVM_OK);
			drive_to(x, cap, reach[s]);
			assert_int_equal(rvm_partition_op(&x->pool, 0, cap, (enum rvm_part_op)op),
					 ok ? RVM_OK : RVM_E_STATE);
			if (ok && want == RVM_PART_DESTROYED) {
				assert_null(rvm_partition_find(&x->pool, id));
				assert_int_equal(x->pool.p[slot].state, RVM_PART_DESTROYED);
				assert_int_equal(x->pool.live, 0);
			} else {
				assert_int_equal(x->pool.p[slot].state, ok ? want : reach[s]);
			}
			/* Find the lifecycle record (destroy is followed by the table clear). */
			r = rvm_witness_get(&x->f->wlog, x->f->wlog.next_seq -
								 (ok && want == RVM_PART_DESTROYED ? 2 : 1));
			if (ok) {
				assert_int_equal(r->arg0, reach[s]);
				assert_int_equal(r->arg1, want);
				assert_int_equal(r->target, id);
			} else {
				assert_int_equal(r->action, RVM_ACT_GATE_DENIED);
				assert_int_equal(r->arg1, RVM_E_STATE);
			}
			pfix_free(x);
		}
}

static void test_part_destroyed_is_final_and_id_not_reused(void **state)
{
	struct pfix *x = pfix_new();
	uint32_t slot, slot2;
	rvm_obj_id id, id2;
	rvm_cap_t cap, cap2;

	(void)state;
	assert_int_equal(rvm_partition_create(&x->pool, 0, &slot, &id, &cap), RVM_OK);
	assert_int_equal(rvm_partition_op(&x->pool, 0, cap, RVM_PART_DESTROY), RVM_OK);
	/* Every op on the old cap now fails: the object is gone. */
	for (int op = 0; op < RVM_PART_OP_COUNT; op++)
		assert_int_equal(rvm_partition_op(&x->pool, 0, cap, (enum rvm_part_op)op),
				 RVM_E_STALE);
	assert_int_equal(cap_fixture_last(x->f)->action, RVM_ACT_CAP_DENIED);
	/* The pool slot is reused, the id is not, and the old cap still does not work. */
	assert_int_equal(rvm_partition_create(&x->pool, 0, &slot2, &id2, &cap2), RVM_OK);
	assert_int_equal(slot2, slot);
	assert_true(id2 != id);
	assert_int_equal(rvm_partition_op(&x->pool, 0, cap, RVM_PART_START), RVM_E_STALE);
	assert_int_equal(rvm_partition_op(&x->pool, 0, cap2, RVM_PART_START), RVM_OK);
	pfix_free(x);
}

static void test_part_rights_busy_and_pool_full(void **state)
{
	struct pfix *x = pfix_new();
	uint32_t slot, n = 0;
	rvm_obj_id id;
	rvm_cap_t cap, ro;

	(void)state;
	assert_int_equal(rvm_partition_create(&x->pool, 0, &slot, &id, &cap), RVM_OK);
	assert_int_equal(rvm_cap_derive(&x->f->gate, 0, cap, RVM_RIGHT_READ, &ro), RVM_OK);
	assert_int_equal(rvm_partition_op(&x->pool, 0, ro, RVM_PART_START), RVM_E_PERM);
	assert_int_equal(x->pool.p[slot].state, RVM_PART_CREATED);
	assert_int_equal(rvm_cap_derive(&x->f->gate, 0, cap, RVM_RIGHT_WRITE, &ro), RVM_OK);
	assert_int_equal(rvm_partition_op(&x->pool, 0, ro, RVM_PART_START), RVM_OK);
	assert_int_equal(rvm_partition_op(&x->pool, 0, ro, RVM_PART_SUSPEND), RVM_OK);
	/* Destroy needs REVOKE too. */
	assert_int_equal(rvm_partition_op(&x->pool, 0, ro, RVM_PART_DESTROY), RVM_E_PERM);
	/* Mid-migration: every lifecycle op is refused with BUSY. */
	x->pool.p[slot].migrating = 1;
	assert_int_equal(rvm_partition_op(&x->pool, 0, cap, RVM_PART_RESUME), RVM_E_BUSY);
	x->pool.p[slot].migrating = 0;
	assert_int_equal(rvm_partition_op(&x->pool, 0, cap, RVM_PART_RESUME), RVM_OK);
	/* A cap held in another table does not work from this one. */
	assert_int_equal(rvm_partition_op(&x->pool, 1, cap, RVM_PART_SUSPEND) != RVM_OK, true);
	/* Fill the pool: every further create is refused with NOMEM and leaves nothing behind. */
	for (;;) {
		uint32_t s;
		rvm_obj_id i;
		rvm_cap_t c;
		enum rvm_err e = rvm_partition_create(&x->pool, 0, &s, &i, &c);

		if (e != RVM_OK) {
			assert_int_equal(e, RVM_E_NOMEM);
			break;
		}
		n++;
	}
	assert_true(n > 0);
	assert_int_equal(x->pool.live, n + 1);
	assert_int_equal(rvm_partition_create(NULL, 0, &slot, &id, &cap), RVM_E_INVAL);
	assert_int_equal(rvm_partition_op(&x->pool, 0, cap, RVM_PART_OP_COUNT), RVM_E_INVAL);
	pfix_free(x);
}

/* Destroy clears the partition's own cap table: no cap it held survives it. */
static void test_part_destroy_clears_table(void **state)
{
	struct pfix *x = pfix_new();
	uint32_t a, b;
	rvm_obj_id ida, idb;
	rvm_cap_t ca, cb, held;

	(void)state;
	assert_int_equal(rvm_partition_create(&x->pool, 0, &a, &ida, &ca), RVM_OK);
	assert_int_equal(rvm_partition_create(&x->pool, 0, &b, &idb, &cb), RVM_OK);
	assert_int_equal(rvm_cap_grant(&x->f->gate, 0, cb, a, RVM_RIGHT_READ, &held), RVM_OK);
	assert_true(x->f->caps.tables[a].live > 0);
	assert_int_equal(rvm_partition_op(&x->pool, 0, ca, RVM_PART_DESTROY), RVM_OK);
	assert_int_equal(x->f->caps.tables[a].live, 0);
	pfix_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_part_next_state_pure),
		cmocka_unit_test(test_part_every_transition),
		cmocka_unit_test(test_part_destroyed_is_final_and_id_not_reused),
		cmocka_unit_test(test_part_rights_busy_and_pool_full),
		cmocka_unit_test(test_part_destroy_clears_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
