/* kernel/partition_caps.c - moving capabilities between cap tables with the derivation tree intact. */
#include <rvm/bytes.h>
#include <rvm/cap.h>

#include "partition_priv.h"

bool part_cap_movable(const struct rvm_cap_space *s, uint32_t ref)
{
	const struct rvm_cap *c = rvm_cap_at_const(s, ref);

	/* A lease is bound to its holder partition; a slot at the last generation could not
	 * be taken back by an undo (it retires when freed). */
	return c->state == RVM_CAPS_LIVE && c->type != RVM_OBJ_LEASE && c->gen != UINT32_MAX;
}

/* A slot of table for a moved cap: the free-list head (exact: must be `slot`), else a new one. */
static uint32_t take_slot(struct rvm_cap_space *s, uint32_t table, bool exact, uint32_t slot)
{
	struct rvm_cap_table *t = &s->tables[table];
	struct rvm_cap *c;

	if (exact || t->free_head != RVM_CAP_NIL) {
		slot = t->free_head;
		c = &t->slots[slot];
		t->free_head = c->next_sibling;
		/* An undo takes back the generation the handle had; anything else is a reuse. */
		if (!exact)
			c->gen++;
	} else {
		slot = t->hw++;
		t->slots[slot].gen = 1;
	}
	t->live++;
	return rvm_cap_ref(table, slot);
}

/* Frees the slot a cap moved out of: not revoked (its handle reports E_STALE). */
static void release_slot(struct rvm_cap_space *s, uint32_t ref)
{
	struct rvm_cap_table *t = &s->tables[ref / RVM_CAP_TABLE_SLOTS];
	struct rvm_cap *c = rvm_cap_at(s, ref);

	c->state = RVM_CAPS_FREE;
	c->flags = 0;
	c->parent = RVM_CAP_NIL;
	c->first_child = RVM_CAP_NIL;
	c->prev_sibling = RVM_CAP_NIL;
	rvm_memset(c->digest, 0, sizeof(c->digest));
	t->live--;
	/* part_cap_movable keeps generation UINT32_MAX out, so the slot is always reusable. */
	c->next_sibling = t->free_head;
	t->free_head = ref % RVM_CAP_TABLE_SLOTS;
}

uint32_t part_cap_relocate(struct rvm_cap_space *s, uint32_t ref, uint32_t to, bool exact,
			   uint32_t slot)
{
	struct rvm_cap old = *rvm_cap_at(s, ref);
	uint32_t nref = take_slot(s, to, exact, slot);
	struct rvm_cap *n = rvm_cap_at(s, nref);
	uint32_t gen = n->gen;

	*n = old;
	n->gen = gen;
	/* Take ref's place in its parent's child list, and become its children's parent. */
	if (n->prev_sibling != RVM_CAP_NIL)
		rvm_cap_at(s, n->prev_sibling)->next_sibling = nref;
	else if (n->parent != RVM_CAP_NIL)
		rvm_cap_at(s, n->parent)->first_child = nref;
	if (n->next_sibling != RVM_CAP_NIL)
		rvm_cap_at(s, n->next_sibling)->prev_sibling = nref;
	for (uint32_t k = n->first_child; k != RVM_CAP_NIL; k = rvm_cap_at(s, k)->next_sibling)
		rvm_cap_at(s, k)->parent = nref;
	release_slot(s, ref);
	/* Cached checks name (table, handle): the old one is gone, so every cache must go. */
	s->epoch++;
	/* The seal covers the place (table, slot, gen): reseal the cap and its subtree. */
	rvm_cap_set_rights(s, nref, n->rights);
	return nref;
}
