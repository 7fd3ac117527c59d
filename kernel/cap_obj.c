/* kernel/cap_obj.c - the object registry: (type, slot, generation) ids that never alias. */
#include <rvm/cap.h>

void rvm_obj_init(struct rvm_obj_table *t)
{
	t->hw = 0;
	t->free_head = RVM_CAP_NIL;
	t->live = 0;
	t->retired = 0;
}

enum rvm_err rvm_obj_create(struct rvm_obj_table *t, enum rvm_obj_type type, rvm_obj_id *out)
{
	uint32_t i;
	struct rvm_obj_slot *o;

	if (type <= RVM_OBJ_NONE || type >= RVM_OBJ_TYPE_COUNT || !out)
		return RVM_E_INVAL;
	if (t->free_head != RVM_CAP_NIL) {
		i = t->free_head;
		o = &t->slots[i];
		t->free_head = o->next_free;
		o->gen++; /* < UINT32_MAX: slots at the maximum are retired, never listed */
	} else if (t->hw < RVM_OBJ_SLOTS) {
		i = t->hw++;
		o = &t->slots[i];
		o->gen = 1; /* generation 0 is never issued */
		o->retired = 0;
	} else {
		return RVM_E_NOMEM;
	}
	o->type = (uint8_t)type;
	o->live = 1;
	o->next_free = RVM_CAP_NIL;
	t->live++;
	*out = rvm_handle_make(i, o->gen);
	return RVM_OK;
}

enum rvm_err rvm_obj_lookup(const struct rvm_obj_table *t, rvm_obj_id id, enum rvm_obj_type type)
{
	uint32_t i = rvm_handle_slot(id), gen = rvm_handle_gen(id);
	const struct rvm_obj_slot *o;

	if (i >= RVM_OBJ_SLOTS || gen == 0)
		return RVM_E_INVAL;
	if (i >= t->hw)
		return RVM_E_STALE;
	o = &t->slots[i];
	if (!o->live || o->gen != gen)
		return RVM_E_STALE;
	if (o->type != type)
		return RVM_E_POLICY;
	return RVM_OK;
}

enum rvm_err rvm_obj_destroy(struct rvm_obj_table *t, rvm_obj_id id)
{
	uint32_t i = rvm_handle_slot(id), gen = rvm_handle_gen(id);
	struct rvm_obj_slot *o;

	if (i >= RVM_OBJ_SLOTS || gen == 0)
		return RVM_E_INVAL;
	if (i >= t->hw || !t->slots[i].live || t->slots[i].gen != gen)
		return RVM_E_STALE;
	o = &t->slots[i];
	o->live = 0;
	t->live--;
	if (o->gen == UINT32_MAX) {
		/* Reusing the slot would need generation 0 or a wrap: retire it. */
		o->retired = 1;
		t->retired++;
		return RVM_OK;
	}
	o->next_free = t->free_head;
	t->free_head = i;
	return RVM_OK;
}
