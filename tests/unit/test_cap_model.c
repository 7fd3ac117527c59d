/* tests/unit/test_cap_model.c - 100,000 random cap operations against a tiny reference model. */
#include "support.h"

#include <stdio.h>

#include "test_cap_fixture.h"

#define STEPS 100000
#define TABLES 4    /* tables 1..TABLES */
#define OBJECTS 6
#define MAXM (STEPS + 16)

/* The reference model: a flat list of every cap ever made, with parent indices. */
struct mcap {
	uint32_t table;
	rvm_cap_t h;
	int32_t parent;
	int32_t live_pos; /* index in live[], -1 when dead */
	uint8_t rights;
	uint8_t depth;
	uint8_t revoked; /* died by revocation (vs. deleted) */
	uint8_t obj;
};

struct model {
	struct mcap c[MAXM];
	uint32_t n;
	int32_t live[MAXM];
	uint32_t nlive;
	uint32_t tlive[TABLES + 1];
	int32_t occ[TABLES + 1][RVM_CAP_TABLE_SLOTS]; /* last model cap in each slot */
	rvm_obj_id obj[OBJECTS];
};

static struct model *M;
static uint32_t outcomes[RVM_ERR_COUNT]; /* how often each result came up */

static void m_add(struct model *m, uint32_t table, rvm_cap_t h, int32_t parent, uint8_t rights,
		  uint8_t obj)
{
	struct mcap *c = &m->c[m->n];

	c->table = table;
	c->h = h;
	c->parent = parent;
	c->rights = rights;
	c->depth = parent < 0 ? 0 : (uint8_t)(m->c[parent].depth + 1);
	c->revoked = 0;
	c->obj = obj;
	c->live_pos = (int32_t)m->nlive;
	m->live[m->nlive++] = (int32_t)m->n;
	m->tlive[table]++;
	m->occ[table][rvm_handle_slot(h)] = (int32_t)m->n;
	m->n++;
}

static void m_kill(struct model *m, int32_t i, bool revoked)
{
	struct mcap *c = &m->c[i];
	int32_t last = m->live[--m->nlive];

	m->live[c->live_pos] = last;
	m->c[last].live_pos = c->live_pos;
	c->live_pos = -1;
	c->revoked = revoked;
	m->tlive[c->table]--;
}

static bool m_is_ancestor(const struct model *m, int32_t anc, int32_t i)
{
	for (i = m->c[i].parent; i >= 0; i = m->c[i].parent)
		if (i == anc)
			return true;
	return false;
}

/* Kills every live descendant of i (deepest first is not needed: the model has no links). */
static uint32_t m_kill_descendants(struct model *m, int32_t i)
{
	uint32_t n = 0;

	for (uint32_t k = 0; k < m->nlive;) {
		int32_t j = m->live[k];

		if (m_is_ancestor(m, i, j)) {
			m_kill(m, j, true);
			n++;
		} else {
			k++;
		}
	}
	return n;
}

static bool m_has_children(const struct model *m, int32_t i)
{
	for (uint32_t k = 0; k < m->nlive; k++)
		if (m->c[m->live[k]].parent == i)
			return true;
	return false;
}

/* What resolving cap i's handle should give. */
static enum rvm_err m_resolve(const struct model *m, int32_t i)
{
	const struct mcap *c = &m->c[i];

	if (c->live_pos >= 0)
		return RVM_OK;
	if (m->occ[c->table][rvm_handle_slot(c->h)] != i)
		return RVM_E_STALE; /* slot reused since */
	return c->revoked ? RVM_E_REVOKED : RVM_E_STALE;
}

static bool derivable(uint8_t parent, uint8_t child)
{
	/* Written out again here, independently of rvm_cap_rights_derivable. */
	if (child & 0x80)
		return false;
	if ((child & parent) != child)
		return false;
	if ((child & RVM_RIGHT_GRANT_ONCE) && !(parent & RVM_RIGHT_GRANT))
		return false;
	return true;
}

static int32_t pick(const struct model *m, uint64_t *seed)
{
	/* Mostly live caps, sometimes any cap ever made (stale and revoked handles). */
	if (m->nlive && rvm_test_rand(seed) % 8 != 0)
		return m->live[rvm_test_rand(seed) % m->nlive];
	return (int32_t)(rvm_test_rand(seed) % m->n);
}

/*
 * Rights for a new cap: usually the parent's minus at most one right (so
 * REVOKE survives long enough for revocations to cut deep), sometimes a
 * random subset, sometimes anything at all.
 */
static uint8_t pick_rights(uint8_t parent, uint64_t *seed)
{
	uint32_t k = (uint32_t)(rvm_test_rand(seed) % 8);
	uint8_t r = (uint8_t)rvm_test_rand(seed);

	if (k < 5)
		return (uint8_t)(parent & ~(1u << (rvm_test_rand(seed) % 8)));
	if (k < 7)
		return (uint8_t)(r & parent);
	return r;
}

/* The deepest live cap (the newest if none is live). */
static int32_t deepest(const struct model *m)
{
	int32_t best = (int32_t)m->n - 1;

	for (uint32_t k = 0; k < m->nlive; k++)
		if (m->c[best].live_pos < 0 || m->c[m->live[k]].depth > m->c[best].depth)
			best = m->live[k];
	return best;
}

/* Compares every cap of the model with the kernel. */
static void full_sweep(struct cap_fixture *f, const struct model *m)
{
	uint32_t klive = 0;

	for (uint32_t i = 0; i < m->n; i++) {
		const struct mcap *mc = &m->c[i];
		const struct rvm_cap *kc;
		enum rvm_err e = rvm_cap_resolve(&f->caps, mc->table, mc->h, &kc);

		assert_int_equal(e, m_resolve(m, (int32_t)i));
		if (e != RVM_OK)
			continue;
		assert_int_equal(kc->rights, mc->rights);
		assert_int_equal(kc->depth, mc->depth);
		assert_true(kc->object == m->obj[mc->obj]);
		if (mc->parent < 0) {
			assert_int_equal(kc->parent, RVM_CAP_NIL);
		} else {
			const struct mcap *p = &m->c[mc->parent];

			assert_int_equal(kc->parent,
					 rvm_cap_ref(p->table, rvm_handle_slot(p->h)));
		}
	}
	for (uint32_t t = 0; t < RVM_CAP_TABLES; t++)
		klive += f->caps.tables[t].live;
	assert_int_equal(klive, m->nlive);
}

/* The model's own invariants, on the model: they hold there by construction or the test is wrong. */
static void model_invariants(const struct model *m)
{
	for (uint32_t k = 0; k < m->nlive; k++) {
		const struct mcap *c = &m->c[m->live[k]];

		assert_true(c->depth <= RVM_CAP_MAX_DEPTH);
		if (c->parent >= 0) {
			const struct mcap *p = &m->c[c->parent];

			assert_true(p->live_pos >= 0); /* no revoked ancestor */
			assert_true(derivable(p->rights, c->rights));
		}
	}
}

static void step(struct cap_fixture *f, struct model *m, uint64_t *seed, uint32_t *counts)
{
	uint32_t op = (uint32_t)(rvm_test_rand(seed) % 100);
	enum rvm_err want, got;
	rvm_cap_t h;

	if (op < 4 || m->n == 0) { /* create (mint a root) */
		uint32_t t = 1 + (uint32_t)(rvm_test_rand(seed) % TABLES);
		uint8_t o = (uint8_t)(rvm_test_rand(seed) % OBJECTS);
		/* Roots hold everything, so every tree can be revoked from the top. */
		uint8_t r = RVM_RIGHTS_ALL;

		want = m->tlive[t] == RVM_CAP_TABLE_SLOTS ? RVM_E_NOMEM : RVM_OK;
		got = rvm_cap_mint(&f->gate, t, RVM_OBJ_REGION, m->obj[o], r, &h);
		assert_int_equal(got, want);
		outcomes[got]++;
		if (got == RVM_OK)
			m_add(m, t, h, -1, r, o);
		counts[0]++;
	} else if (op < 40) { /* derive (op < 24) or grant */
		bool grant = op >= 24;
		/* A quarter of the time extend the deepest cap: chains reach the depth limit. */
		int32_t i = rvm_test_rand(seed) % 4 == 0 ? deepest(m) : pick(m, seed);
		struct mcap *c = &m->c[i];
		uint8_t r = pick_rights(c->rights, seed);
		uint32_t to = grant ? 1 + (uint32_t)(rvm_test_rand(seed) % TABLES) : c->table;

		want = m_resolve(m, i);
		if (want == RVM_OK && (r & ~c->rights))
			want = RVM_E_PERM; /* P1 */
		if (want == RVM_OK && !derivable(c->rights, r))
			want = RVM_E_PERM;
		if (want == RVM_OK && grant &&
		    !(c->rights & (RVM_RIGHT_GRANT | RVM_RIGHT_GRANT_ONCE)))
			want = RVM_E_PERM;
		if (want == RVM_OK && c->depth >= RVM_CAP_MAX_DEPTH)
			want = RVM_E_DEPTH;
		if (want == RVM_OK && m->tlive[to] == RVM_CAP_TABLE_SLOTS)
			want = RVM_E_NOMEM;
		got = grant ? rvm_cap_grant(&f->gate, c->table, c->h, to, r, &h)
			    : rvm_cap_derive(&f->gate, c->table, c->h, r, &h);
		assert_int_equal(got, want);
		outcomes[got]++;
		if (got == RVM_OK) {
			m_add(m, to, h, i, r, c->obj);
			if (grant && (c->rights & (RVM_RIGHT_GRANT | RVM_RIGHT_GRANT_ONCE)) ==
					     RVM_RIGHT_GRANT_ONCE)
				c->rights &= (uint8_t)~RVM_RIGHT_GRANT_ONCE;
		}
		counts[grant ? 2 : 1]++;
	} else if (op < 47) { /* revoke, aimed at an ancestor so subtrees are large */
		int32_t i = pick(m, seed);
		uint32_t up = (uint32_t)(rvm_test_rand(seed) % 10); /* 9: to the root */

		while (up-- && m->c[i].parent >= 0 && m->c[m->c[i].parent].live_pos >= 0)
			i = m->c[i].parent;
		want = m_resolve(m, i);
		if (want == RVM_OK && !(m->c[i].rights & RVM_RIGHT_REVOKE))
			want = RVM_E_PERM;
		got = rvm_cap_revoke(&f->gate, m->c[i].table, m->c[i].h);
		assert_int_equal(got, want);
		outcomes[got]++;
		if (got == RVM_OK)
			assert_true(cap_fixture_last(f)->arg1 == m_kill_descendants(m, i));
		counts[3]++;
	} else if (op < 55) { /* delete; in a crowded space, a whole tree from its root */
		int32_t i = pick(m, seed);

		while (m->nlive > 200 && m->c[i].parent >= 0 && m->c[m->c[i].parent].live_pos >= 0)
			i = m->c[i].parent;

		want = m_resolve(m, i);
		if (want == RVM_OK && m_has_children(m, i) &&
		    !(m->c[i].rights & RVM_RIGHT_REVOKE))
			want = RVM_E_PERM;
		got = rvm_cap_delete(&f->gate, m->c[i].table, m->c[i].h);
		assert_int_equal(got, want);
		outcomes[got]++;
		if (got == RVM_OK) {
			m_kill_descendants(m, i);
			m_kill(m, i, false);
		}
		counts[4]++;
	} else { /* check */
		int32_t i = pick(m, seed);
		uint8_t r = (uint8_t)(rvm_test_rand(seed) & RVM_RIGHTS_ALL);
		uint8_t o = rvm_test_rand(seed) % 5 ? m->c[i].obj
						    : (uint8_t)(rvm_test_rand(seed) % OBJECTS);
		uint32_t table = m->c[i].table;
		rvm_cap_t hh = m->c[i].h;

		if (rvm_test_rand(seed) % 50 == 0)
			hh = RVM_CAP_NULL;
		want = hh == RVM_CAP_NULL ? RVM_E_INVAL : m_resolve(m, i);
		if (want == RVM_OK && (r & ~m->c[i].rights))
			want = RVM_E_PERM;
		if (want == RVM_OK && o != m->c[i].obj)
			want = RVM_E_PERM;
		got = rvm_cap_check(&f->gate, table, hh, RVM_OBJ_REGION, m->obj[o], r);
		assert_int_equal(got, want);
		outcomes[got]++;
		counts[5]++;
	}
}

static void test_model_100k(void **state)
{
	struct cap_fixture *f = cap_fixture_new();
	uint64_t seed = 0xC0FFEE, live_sum = 0;
	uint32_t counts[6] = { 0 }, max_live = 0;

	(void)state;
	M = calloc(1, sizeof(*M));
	assert_non_null(M);
	for (uint32_t i = 0; i < OBJECTS; i++)
		assert_int_equal(rvm_obj_create(&f->objs, RVM_OBJ_REGION, &M->obj[i]), RVM_OK);
	for (uint32_t s = 0; s < STEPS; s++) {
		step(f, M, &seed, counts);
		/* After every step: the kernel's own invariants (ancestor rights, no orphan,
		 * depth, links, seals) and the model's. */
		assert_int_equal(rvm_cap_check_invariants(&f->caps), RVM_OK);
		model_invariants(M);
		live_sum += M->nlive;
		if (M->nlive > max_live)
			max_live = M->nlive;
		if (s % 5000 == 0)
			full_sweep(f, M);
	}
	full_sweep(f, M);
	printf("model: %u steps: %u mint, %u derive, %u grant, %u revoke, %u delete, %u check; "
	       "live caps avg %.0f max %u\n",
	       STEPS, counts[0], counts[1], counts[2], counts[3], counts[4], counts[5],
	       (double)live_sum / STEPS, max_live);
	printf("model: outcomes ok %u perm %u depth %u stale %u revoked %u inval %u\n",
	       outcomes[RVM_OK], outcomes[RVM_E_PERM], outcomes[RVM_E_DEPTH], outcomes[RVM_E_STALE],
	       outcomes[RVM_E_REVOKED], outcomes[RVM_E_INVAL]);
	for (int k = 0; k < 6; k++)
		assert_true(counts[k] > 1000);
	/* Every kind of answer came up often enough to mean something. */
	assert_true(outcomes[RVM_OK] > 10000 && outcomes[RVM_E_PERM] > 1000);
	assert_true(outcomes[RVM_E_DEPTH] > 100 && outcomes[RVM_E_STALE] > 1000);
	assert_true(outcomes[RVM_E_REVOKED] > 100 && outcomes[RVM_E_INVAL] > 100);
	free(M);
	cap_fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_100k),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
