/* tests/unit/test_gate.c - the security gate: order, precise denials, witnessing, no change on refusal. */
#include "support.h"

#include "test_cap_fixture.h"

struct probe {
	int applied;
	int checked;
	enum rvm_err check_result;
};

static enum rvm_err probe_check(void *ctx, const struct rvm_gate_req *req, const struct rvm_cap *cap)
{
	struct probe *p = ctx;

	(void)req;
	(void)cap;
	p->checked++;
	return p->check_result;
}

static void probe_apply(void *ctx, const struct rvm_gate_req *req, uint64_t args[2])
{
	struct probe *p = ctx;

	(void)req;
	p->applied++;
	args[1] = 4242;
}

/* A request exercising every P2 rule, all satisfied. */
static struct rvm_gate_req full_req(struct cap_fixture *f, rvm_cap_t h, rvm_obj_id o,
				    struct probe *p, const struct rvm_region_desc *reg,
				    const struct rvm_lease_desc *lease, struct rvm_quota *q,
				    uint64_t nonce)
{
	struct rvm_gate_req req = {
		.action = RVM_ACT_REGION_WRITE,
		.checks = RVM_GATE_OWNER | RVM_GATE_REGION | RVM_GATE_ALIAS | RVM_GATE_LEASE |
			  RVM_GATE_EPOCH | RVM_GATE_NONCE | RVM_GATE_QUOTA | RVM_GATE_P3,
		.caller = 1,
		.cap = h,
		.rights = RVM_RIGHT_WRITE,
		.obj_type = RVM_OBJ_REGION,
		.object = o,
		.owner = RVM_OWNER_NONE,
		.region = reg,
		.offset = 64,
		.length = 64,
		.align = 64,
		.map_base = 0x100000,
		.map_size = 0x1000,
		.map_writable = true,
		.lease = lease,
		.now_ns = 10,
		.epoch = f->caps.epoch,
		.nonce = nonce,
		.quota = q,
		.amount = 10,
		.arg0 = 7,
		.check = probe_check,
		.apply = probe_apply,
		.ctx = p,
	};
	return req;
}

static void expect_denial(struct cap_fixture *f, struct rvm_gate_req *req, struct probe *p,
			  enum rvm_err want, uint16_t record)
{
	uint64_t seq = f->wlog.next_seq, used = req->quota ? req->quota->used : 0;
	const struct rvm_witness_record *r;
	int applied = p->applied;

	assert_int_equal(rvm_gate_invoke(&f->gate, req), want);
	assert_int_equal(p->applied, applied);
	assert_true(f->wlog.next_seq == seq + 1);
	r = cap_fixture_last(f);
	assert_int_equal(r->action, record);
	assert_int_equal(r->flags, RVM_WF_DENIED);
	assert_int_equal(r->actor, req->caller);
	assert_int_equal(r->arg0, req->action);
	assert_int_equal(r->arg1, want);
	if (req->quota)
		assert_true(req->quota->used == used); /* a refusal charges nothing */
}

static void test_gate_each_step_denies(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	struct rvm_region_desc reg = { .owner = 1, .base = 0x100000, .size = 4096, .writable = true };
	struct rvm_lease_desc lease = { .holder = 1, .expiry_ns = 100 };
	struct rvm_quota q = { .limit = 25 };
	struct probe p = { 0 };
	rvm_obj_id o, other;
	rvm_cap_t h = cap_fixture_root(f, 1, RVM_OBJ_REGION, RVM_RIGHTS_ALL, &o), ro;
	struct rvm_gate_req req;
	const struct rvm_witness_record *r;

	(void)state;
	cap_fixture_root(f, 1, RVM_OBJ_REGION, RVM_RIGHTS_ALL, &other);
	assert_int_equal(rvm_cap_derive(&f->gate, 1, h, RVM_RIGHT_READ, &ro), RVM_OK);
	assert_int_equal(rvm_map_add(&f->maps, 2, 0x200800, 0x100, false), RVM_OK);

	/* P1 */
	req = full_req(f, ro, o, &p, &reg, &lease, &q, 1);
	expect_denial(f, &req, &p, RVM_E_PERM, RVM_ACT_CAP_DENIED);
	req = full_req(f, h + (1ull << 32), o, &p, &reg, &lease, &q, 1);
	expect_denial(f, &req, &p, RVM_E_STALE, RVM_ACT_CAP_DENIED);
	req = full_req(f, h, o, &p, &reg, &lease, &q, 1);
	req.caller = RVM_CAP_TABLES;
	expect_denial(f, &req, &p, RVM_E_INVAL, RVM_ACT_CAP_DENIED);
	/* P2.1 .. P2.6, in order */
	req = full_req(f, h, other, &p, &reg, &lease, &q, 1);
	expect_denial(f, &req, &p, RVM_E_PERM, RVM_ACT_GATE_DENIED);
	req = full_req(f, h, o, &p, &reg, &lease, &q, 1);
	req.offset = 4096;
	expect_denial(f, &req, &p, RVM_E_RANGE, RVM_ACT_GATE_DENIED);
	req = full_req(f, h, o, &p, &reg, &lease, &q, 1);
	req.map_base = 0x200000;
	expect_denial(f, &req, &p, RVM_E_ALIAS, RVM_ACT_GATE_DENIED);
	req = full_req(f, h, o, &p, &reg, &lease, &q, 1);
	req.now_ns = 100;
	expect_denial(f, &req, &p, RVM_E_EXPIRED, RVM_ACT_GATE_DENIED);
	req = full_req(f, h, o, &p, &reg, &lease, &q, 1);
	req.epoch--;
	expect_denial(f, &req, &p, RVM_E_EPOCH, RVM_ACT_GATE_DENIED);
	req = full_req(f, h, o, &p, &reg, &lease, &q, 0);
	expect_denial(f, &req, &p, RVM_E_INVAL, RVM_ACT_GATE_DENIED);
	/* The operation's own check runs after P1-P3. */
	req = full_req(f, h, o, &p, &reg, &lease, &q, 1);
	p.check_result = RVM_E_BUSY;
	expect_denial(f, &req, &p, RVM_E_BUSY, RVM_ACT_GATE_DENIED);
	assert_int_equal(p.checked, 1); /* earlier refusals never reached it */
	p.check_result = RVM_OK;

	/* All satisfied: applied once, then witnessed with the apply's arguments. */
	req = full_req(f, h, o, &p, &reg, &lease, &q, 1);
	assert_int_equal(rvm_gate_invoke(&f->gate, &req), RVM_OK);
	assert_int_equal(p.applied, 1);
	assert_true(q.used == 10);
	r = cap_fixture_last(f);
	assert_int_equal(r->action, RVM_ACT_REGION_WRITE);
	assert_int_equal(r->flags, 0);
	assert_true(r->actor == 1 && r->target == o && r->arg0 == 7 && r->arg1 == 4242);
	/* The nonce is spent; quota is charged per success only. */
	expect_denial(f, &req, &p, RVM_E_REPLAY, RVM_ACT_GATE_DENIED);
	req = full_req(f, h, o, &p, &reg, &lease, &q, 2);
	assert_int_equal(rvm_gate_invoke(&f->gate, &req), RVM_OK);
	req = full_req(f, h, o, &p, &reg, &lease, &q, 3);
	expect_denial(f, &req, &p, RVM_E_QUOTA, RVM_ACT_GATE_DENIED);
	/* The refused request did not spend its nonce: once quota frees up, it goes through. */
	rvm_quota_release(&q, 10);
	assert_int_equal(rvm_gate_invoke(&f->gate, &req), RVM_OK);
	assert_int_equal(p.applied, 3);
	/* Revocation moves the epoch: a request presenting the old one is refused. */
	assert_int_equal(rvm_cap_revoke(&f->gate, 1, h), RVM_OK);
	req = full_req(f, h, o, &p, &reg, &lease, &q, 4);
	req.epoch = f->caps.epoch - 1;
	expect_denial(f, &req, &p, RVM_E_EPOCH, RVM_ACT_GATE_DENIED);
	assert_int_equal(f->gate.allowed, 7); /* 2 mints, derive, 3 region writes, revoke */
	cap_fixture_free(f);
}

static void test_gate_p3_and_kernel(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	struct probe p = { 0 };
	rvm_obj_id o;
	rvm_cap_t h = cap_fixture_root(f, 1, RVM_OBJ_AGENT, RVM_RIGHTS_ALL, &o), c;
	struct rvm_gate_req req = { .action = RVM_ACT_AGENT_SPAWN, .checks = RVM_GATE_P3,
				    .caller = 2, .rights = RVM_RIGHT_EXECUTE, .object = o,
				    .apply = probe_apply, .ctx = &p };

	(void)state;
	assert_int_equal(rvm_cap_grant(&f->gate, 1, h, 2, RVM_RIGHTS_ALL, &c), RVM_OK);
	req.cap = c;
	assert_int_equal(rvm_gate_invoke(&f->gate, &req), RVM_OK);
	/* A corrupted ancestor: P3 refuses, P1 alone would not have. */
	f->caps.tables[1].slots[rvm_handle_slot(h)].digest[5] ^= 1;
	expect_denial(f, &req, &p, RVM_E_CORRUPT, RVM_ACT_GATE_DENIED);
	f->caps.tables[1].slots[rvm_handle_slot(h)].digest[5] ^= 1;
	/* Kernel requests skip P1 and are witnessed as actor 0. */
	req.checks = RVM_GATE_KERNEL;
	req.cap = RVM_CAP_NULL;
	assert_int_equal(rvm_gate_invoke(&f->gate, &req), RVM_OK);
	assert_int_equal(cap_fixture_last(f)->actor, 0);
	/* Without a map table the alias rule cannot be proven: refused. */
	f->gate.maps = NULL;
	req.checks = RVM_GATE_KERNEL | RVM_GATE_ALIAS;
	req.map_size = 1;
	assert_int_equal(rvm_gate_invoke(&f->gate, &req), RVM_E_UNSUPPORTED);
	req.checks = RVM_GATE_KERNEL | RVM_GATE_QUOTA; /* quota asked, none given */
	assert_int_equal(rvm_gate_invoke(&f->gate, &req), RVM_E_INVAL);
	assert_int_equal(p.applied, 2);
	cap_fixture_free(f);
}

/* A sink that takes the file header, then fails: the log fills and cannot flush. */
static enum rvm_err failing_append(void *ctx, enum rvm_sink_stream s, const void *buf, size_t n)
{
	int *calls = ctx;

	(void)s;
	(void)buf;
	(void)n;
	return (*calls)++ == 0 ? RVM_OK : RVM_E_IO;
}

static enum rvm_err ok_sync(void *ctx, enum rvm_sink_stream s)
{
	(void)ctx;
	(void)s;
	return RVM_OK;
}

/* Nothing mutates without a witness record: a full log refuses before the apply. */
static void test_gate_full_log_refuses(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	struct rvm_witness_config cfg;
	struct rvm_quota q = { .limit = 1000000 };
	struct probe p = { 0 };
	int calls = 0;
	rvm_obj_id o;
	rvm_cap_t h = cap_fixture_root(f, 1, RVM_OBJ_REGION, RVM_RIGHTS_ALL, &o);
	struct rvm_gate_req req = { .action = RVM_ACT_REGION_TIER, .checks = RVM_GATE_QUOTA,
				    .caller = 1, .cap = h, .rights = RVM_RIGHT_WRITE, .object = o,
				    .quota = &q, .amount = 1, .apply = probe_apply, .ctx = &p };
	uint32_t ok = 0;
	enum rvm_err e = RVM_OK;

	(void)state;
	f->plat.ctx = &calls;
	f->plat.sink_append = failing_append;
	f->plat.sink_sync = ok_sync;
	memset(&cfg, 0, sizeof(cfg));
	cfg.chain = RVM_CHAIN_SHA256;
	memset(cfg.boot_nonce, 1, sizeof(cfg.boot_nonce));
	assert_int_equal(rvm_witness_init(&f->wlog, &f->plat, &cfg), RVM_OK);
	assert_true(f->wlog.has_sink);
	while (ok < 2 * RVM_WITNESS_RING_RECORDS && (e = rvm_gate_invoke(&f->gate, &req)) == RVM_OK)
		ok++;
	assert_int_equal(e, RVM_E_FULL);
	assert_true(ok > 0 && ok <= RVM_WITNESS_RING_RECORDS);
	assert_int_equal(p.applied, ok);
	assert_true(q.used == ok);
	assert_int_equal(f->wlog.next_seq, ok);
	/* Cap operations are refused the same way, and change nothing. */
	assert_int_equal(rvm_cap_revoke(&f->gate, 1, h), RVM_E_FULL);
	assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_OK);
	cap_fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gate_each_step_denies),
		cmocka_unit_test(test_gate_p3_and_kernel),
		cmocka_unit_test(test_gate_full_log_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
