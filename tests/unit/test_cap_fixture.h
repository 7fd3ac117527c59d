/* tests/unit/test_cap_fixture.h - one kernel's worth of caps, registry, witness log and gate for tests. */
#ifndef RVM_TEST_CAP_FIXTURE_H
#define RVM_TEST_CAP_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include <hosted.h>
#include <rvm/gate.h>
#include <rvm/witness.h>

/* Large (the cap space is tens of MiB on the appliance profile): always heap-allocated. */
struct cap_fixture {
	struct rvm_obj_table objs;
	struct rvm_cap_space caps;
	struct rvm_witness_log wlog;
	struct rvm_map_table maps;
	struct rvm_gate gate;
	struct rvm_hosted hosted;
	struct rvm_platform plat;
};

static inline struct cap_fixture *cap_fixture_new(void)
{
	struct cap_fixture *f = calloc(1, sizeof(*f));
	struct rvm_witness_config cfg;

	assert_non_null(f);
	assert_int_equal(rvm_hosted_open(&f->hosted, NULL, RVM_HOSTED_QUIET, &f->plat), RVM_OK);
	memset(&cfg, 0, sizeof(cfg));
	cfg.chain = RVM_CHAIN_SHA256;
	cfg.sig = RVM_SIG_NONE;
	memset(cfg.boot_nonce, 0x5a, sizeof(cfg.boot_nonce));
	assert_int_equal(rvm_witness_init(&f->wlog, &f->plat, &cfg), RVM_OK);
	rvm_obj_init(&f->objs);
	rvm_cap_space_init(&f->caps, &f->objs, f->plat.sha256);
	rvm_map_init(&f->maps);
	rvm_gate_init(&f->gate, &f->caps, &f->wlog, &f->maps);
	return f;
}

static inline void cap_fixture_free(struct cap_fixture *f)
{
	rvm_hosted_close(&f->hosted);
	free(f);
}

/* The most recent witness record. */
static inline const struct rvm_witness_record *cap_fixture_last(const struct cap_fixture *f)
{
	assert_true(f->wlog.next_seq > 0);
	return rvm_witness_get(&f->wlog, f->wlog.next_seq - 1);
}

/* A live object of this type and a root cap to it with rights, in table. */
static inline rvm_cap_t cap_fixture_root(struct cap_fixture *f, uint32_t table,
					 enum rvm_obj_type type, uint8_t rights, rvm_obj_id *obj)
{
	rvm_obj_id o;
	rvm_cap_t h;

	assert_int_equal(rvm_obj_create(&f->objs, type, &o), RVM_OK);
	assert_int_equal(rvm_cap_mint(&f->gate, table, type, o, rights, &h), RVM_OK);
	if (obj)
		*obj = o;
	return h;
}

#endif
