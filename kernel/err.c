/* kernel/err.c - names and messages of enum rvm_err. */
#include <rvm/err.h>

static const char *const rvm_err_msgs[RVM_ERR_COUNT] = {
#define RVM_ERR_MSG(name, msg) [RVM_##name] = msg,
	RVM_ERR_LIST(RVM_ERR_MSG)
#undef RVM_ERR_MSG
};

static const char *const rvm_err_names[RVM_ERR_COUNT] = {
#define RVM_ERR_NAME(name, msg) [RVM_##name] = "RVM_" #name,
	RVM_ERR_LIST(RVM_ERR_NAME)
#undef RVM_ERR_NAME
};

const char *rvm_err_str(enum rvm_err err)
{
	if ((unsigned)err >= RVM_ERR_COUNT)
		return "unknown error code";
	return rvm_err_msgs[err];
}

const char *rvm_err_name(enum rvm_err err)
{
	if ((unsigned)err >= RVM_ERR_COUNT)
		return "RVM_E_UNKNOWN";
	return rvm_err_names[err];
}
