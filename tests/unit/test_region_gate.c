/* tests/unit/test_region_gate.c - regions through the security gate: caps, rights, aliasing, stale
 * authority. */
#include "support.h"

#include "test_checkpoint_fixture.h"

static const struct rvm_witness_record *last(struct kfix *k)
{
	return cap_fixture_last(k->f);
}

static void assert_refused(struct kfix *k, uint16_t denial, uint16_t action, enum rvm_err e)
{
	const struct rvm_witness_record *w = last(k);

	assert_int_equal(w->action, denial);
	assert_true(w->flags & RVM_WF_DENIED);
	assert_true(w->arg0 == action);
	assert_true(w->arg1 == (uint64_t)e);
}

static struct kfix *gated_new(void)
{
	struct kfix *k = kfix_new(3, NULL);

	rvm_region_space_set_gate(&k->space, &k->f->gate);
	return k;
}

static void test_create_mints_owner_cap(void **state)
{
	struct kfix *k = gated_new();
	const struct rvm_cap *c;
	const struct rvm_region *r;
	rvm_region_id id;
	rvm_cap_t cap;
	uint64_t seq = k->f->wlog.next_seq;

	(void)state;
	assert_int_equal(
		rvm_region_create_cap(&k->space, 0, 1, 8192, RVM_REGION_DATA, true, 0, &id, &cap),
		RVM_OK);
	r = rvm_region_get(&k->space, id);
	assert_true(r->obj != 0);
	assert_int_equal(rvm_obj_lookup(&k->f->objs, r->obj, RVM_OBJ_REGION), RVM_OK);
	assert_int_equal(rvm_cap_resolve(&k->f->caps, 1, cap, &c), RVM_OK);
	assert_true(c->object == r->obj && c->rights == RVM_RIGHTS_ALL);
	assert_int_equal(rvm_witness_get(&k->f->wlog, seq)->action, RVM_ACT_CAP_MINT);
	assert_int_equal(rvm_witness_get(&k->f->wlog, seq + 1)->action, RVM_ACT_REGION_CREATE);
	assert_true(rvm_witness_get(&k->f->wlog, seq + 1)->target == id);
	/* Ungated spaces have no objects and the cap entry points say so. */
	rvm_region_space_set_gate(&k->space, NULL);
	assert_int_equal(rvm_region_map_cap(&k->space, 1, cap, id, 1, true), RVM_E_UNSUPPORTED);
	kfix_free(k);
}

static void test_rights_sharing_and_aliasing(void **state)
{
	struct kfix *k = gated_new();
	rvm_region_id id;
	rvm_cap_t cap, ro, c2;
	uint64_t denied;
	uint64_t seq;

	(void)state;
	assert_int_equal(
		rvm_region_create_cap(&k->space, 1, 1, 16384, RVM_REGION_DATA, true, 0, &id, &cap),
		RVM_OK);
	/* A read-only cap cannot map writable: P1 refuses, the gate witnesses it. */
	assert_int_equal(rvm_cap_derive(&k->f->gate, 1, cap, RVM_RIGHT_READ, &ro), RVM_OK);
	denied = k->f->gate.denied;
	assert_int_equal(rvm_region_map_cap(&k->space, 1, ro, id, 1, true), RVM_E_PERM);
	assert_refused(k, RVM_ACT_CAP_DENIED, RVM_ACT_REGION_MAP, RVM_E_PERM);
	assert_true(k->f->gate.denied == denied + 1);
	assert_int_equal(rvm_region_write_cap(&k->space, 1, ro, 5, id, 0, "x", 1, NULL),
			 RVM_E_PERM);
	/* Partition 2 gets a read cap and maps the region read-only: sharing through a cap. */
	assert_int_equal(rvm_cap_grant(&k->f->gate, 1, cap, 2, RVM_RIGHT_READ, &c2), RVM_OK);
	assert_int_equal(rvm_region_map_cap(&k->space, 2, c2, id, 2, false), RVM_OK);
	assert_int_equal(last(k)->action, RVM_ACT_REGION_MAP);
	assert_true(last(k)->target == id && last(k)->actor == 2);
	assert_int_equal(rvm_region_map_cap(&k->space, 2, c2, id, 2, true), RVM_E_PERM);
	/* The owner may not map it writable while another partition reads it: no aliasing. */
	assert_int_equal(rvm_region_map_cap(&k->space, 1, cap, id, 1, true), RVM_E_ALIAS);
	assert_refused(k, RVM_ACT_GATE_DENIED, RVM_ACT_REGION_MAP, RVM_E_ALIAS);
	/* Partition 3 holds nothing: whatever handle it presents, P1 refuses. */
	assert_int_equal(rvm_region_map_cap(&k->space, 3, c2, id, 3, false), RVM_E_STALE);
	assert_refused(k, RVM_ACT_CAP_DENIED, RVM_ACT_REGION_MAP, RVM_E_STALE);
	/* Writes need WRITE; the owner's cap has it; the bytes reach the journal. */
	assert_int_equal(rvm_region_unmap_cap(&k->space, 2, c2, id, 2), RVM_OK);
	assert_int_equal(rvm_region_write_cap(&k->space, 1, cap, 5, id, 100, "gated", 5, &seq),
			 RVM_OK);
	assert_int_equal(rvm_witness_get(&k->f->wlog, seq)->action, RVM_ACT_REGION_WRITE);
	assert_true(k->njournal == 1 && k->journal[0].id == seq);
	assert_int_equal(rvm_region_check_invariants(&k->space), RVM_OK);
	assert_int_equal(rvm_cap_check_invariants(&k->f->caps), RVM_OK);
	kf_audit(k);
	kfix_free(k);
}

/* Transfer moves ownership and authority: every old cap goes stale, the new owner gets one. */
static void test_transfer_and_destroy(void **state)
{
	struct kfix *k = gated_new();
	rvm_region_id id;
	rvm_cap_t cap, c2, fresh;
	uint32_t live;

	(void)state;
	live = k->f->objs.live;
	assert_int_equal(
		rvm_region_create_cap(&k->space, 1, 1, 4096, RVM_REGION_DATA, true, 0, &id, &cap),
		RVM_OK);
	assert_int_equal(rvm_cap_grant(&k->f->gate, 1, cap, 2, RVM_RIGHT_READ, &c2), RVM_OK);
	assert_int_equal(rvm_region_map_cap(&k->space, 1, cap, id, 1, true), RVM_OK);
	assert_int_equal(rvm_region_transfer_cap(&k->space, 1, cap, id, 3, &fresh), RVM_E_BUSY);
	assert_int_equal(rvm_region_unmap_cap(&k->space, 1, cap, id, 1), RVM_OK);
	/* GRANT is needed to give it away. */
	assert_int_equal(rvm_region_transfer_cap(&k->space, 2, c2, id, 2, &fresh), RVM_E_PERM);
	assert_int_equal(rvm_region_transfer_cap(&k->space, 1, cap, id, 3, &fresh), RVM_OK);
	assert_int_equal(rvm_region_get(&k->space, id)->owner, 3);
	assert_int_equal(rvm_region_map_cap(&k->space, 1, cap, id, 1, false), RVM_E_STALE);
	assert_int_equal(rvm_region_map_cap(&k->space, 2, c2, id, 2, false), RVM_E_STALE);
	assert_int_equal(rvm_region_map_cap(&k->space, 3, fresh, id, 3, true), RVM_OK);
	assert_int_equal(rvm_region_unmap_cap(&k->space, 3, fresh, id, 3), RVM_OK);
	/* Destroy needs REVOKE; afterwards the object and every cap to it are gone. */
	{
		rvm_cap_t weak;

		assert_int_equal(rvm_cap_derive(&k->f->gate, 3, fresh, RVM_RIGHT_READ, &weak),
				 RVM_OK);
		assert_int_equal(rvm_region_destroy_cap(&k->space, 3, weak, id), RVM_E_PERM);
	}
	assert_int_equal(rvm_region_destroy_cap(&k->space, 3, fresh, id), RVM_OK);
	assert_null(rvm_region_get(&k->space, id));
	assert_int_equal(k->f->objs.live, live);
	assert_int_equal(rvm_region_map_cap(&k->space, 3, fresh, id, 3, false), RVM_E_NOTFOUND);
	assert_int_equal(rvm_region_check_invariants(&k->space), RVM_OK);
	assert_int_equal(rvm_cap_check_invariants(&k->f->caps), RVM_OK);
	kf_audit(k);
	kfix_free(k);
}

/* A rollback in a gated space: the reinstated region is a new object with a new owner cap. */
static void test_restore_in_gated_space(void **state)
{
	struct kfix *k = gated_new();
	static uint8_t buf[1u << 20];
	struct rvm_ckpt_info info;
	struct rvm_ckpt_view v;
	rvm_region_id id;
	rvm_cap_t cap;
	const struct rvm_region *r;
	const struct rvm_cap *c;

	(void)state;
	assert_int_equal(
		rvm_region_create_cap(&k->space, 1, 1, 8192, RVM_REGION_DATA, true, 0, &id, &cap),
		RVM_OK);
	assert_int_equal(rvm_region_write_cap(&k->space, 1, cap, 1, id, 0, "before", 6, NULL),
			 RVM_OK);
	assert_int_equal(rvm_checkpoint_take(&k->ck, 1, NULL, 0, buf, sizeof(buf), &info), RVM_OK);
	assert_int_equal(rvm_region_destroy_cap(&k->space, 1, cap, id), RVM_OK);
	assert_int_equal(rvm_checkpoint_parse(buf, info.len, NULL, &v), RVM_OK);
	assert_int_equal(rvm_checkpoint_restore(&k->ck, &v, 1, NULL), RVM_OK);
	r = rvm_region_get(&k->space, id);
	assert_non_null(r);
	assert_memory_equal((uint8_t *)(uintptr_t)r->base, "before", 6);
	assert_int_equal(rvm_obj_lookup(&k->f->objs, r->obj, RVM_OBJ_REGION), RVM_OK);
	/* The old cap was removed by the rollback (the checkpoint held it, but its object died). */
	assert_int_not_equal(rvm_cap_resolve(&k->f->caps, 1, cap, &c), RVM_OK);
	{
		uint32_t n = 0;

		for (uint32_t i = 0; i < k->f->caps.tables[1].hw; i++) {
			c = &k->f->caps.tables[1].slots[i];
			n += c->state == RVM_CAPS_LIVE && c->object == r->obj;
		}
		assert_int_equal(n, 1);
	}
	assert_int_equal(rvm_region_check_invariants(&k->space), RVM_OK);
	assert_int_equal(rvm_cap_check_invariants(&k->f->caps), RVM_OK);
	kf_audit(k);
	kfix_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_mints_owner_cap),
		cmocka_unit_test(test_rights_sharing_and_aliasing),
		cmocka_unit_test(test_transfer_and_destroy),
		cmocka_unit_test(test_restore_in_gated_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
