/* kernel/witness_action.c - dotted names of the witness actions and their inverse. */
#include <rvm/bytes.h>
#include <rvm/witness.h>

struct rvm_action_entry {
	uint16_t value;
	const char *name;
};

static const struct rvm_action_entry rvm_actions[] = {
#define RVM_ACTION_ENTRY(name, value, text) { value, text },
	RVM_ACTION_LIST(RVM_ACTION_ENTRY)
#undef RVM_ACTION_ENTRY
};

#define RVM_ACTION_COUNT (sizeof(rvm_actions) / sizeof(rvm_actions[0]))

const char *rvm_action_name(uint16_t action)
{
	for (size_t i = 0; i < RVM_ACTION_COUNT; i++)
		if (rvm_actions[i].value == action)
			return rvm_actions[i].name;
	return NULL;
}

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

enum rvm_err rvm_action_parse(const char *name, uint16_t *action)
{
	if (!name || !action)
		return RVM_E_INVAL;
	for (size_t i = 0; i < RVM_ACTION_COUNT; i++) {
		if (str_eq(rvm_actions[i].name, name)) {
			*action = rvm_actions[i].value;
			return RVM_OK;
		}
	}
	return RVM_E_NOTFOUND;
}
