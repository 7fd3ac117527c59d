/* rvm/err.h - the one error type of RVM: every fallible call returns enum rvm_err. */
#ifndef RVM_ERR_H
#define RVM_ERR_H

/*
 * X-macro list: (NAME, message). The name and the message stay side by side so
 * a new code cannot be added without its text. Append only: codes are written
 * into witness records (failed checks), so their numbers are part of the format.
 */
#define RVM_ERR_LIST(X)                                                        \
	X(OK, "success")                                                       \
	X(E_INVAL, "invalid argument")                                         \
	X(E_NOMEM, "out of memory in a fixed pool")                            \
	X(E_RANGE, "value out of range")                                       \
	X(E_PERM, "capability lacks a required right")                         \
	X(E_STALE, "stale handle: generation mismatch")                        \
	X(E_DEPTH, "capability derivation too deep")                           \
	X(E_REVOKED, "capability has been revoked")                            \
	X(E_POLICY, "denied by security policy")                               \
	X(E_EPOCH, "stale epoch")                                              \
	X(E_REPLAY, "nonce already used")                                      \
	X(E_FULL, "queue or ring is full")                                     \
	X(E_EMPTY, "queue or ring is empty")                                   \
	X(E_IO, "input/output error")                                          \
	X(E_CORRUPT, "data is corrupt")                                        \
	X(E_TRUNCATED, "data ends early (torn tail)")                          \
	X(E_TAMPER, "hash chain broken: record altered, dropped or inserted")  \
	X(E_BADSIG, "signature does not verify")                               \
	X(E_FORMAT, "unrecognised format or bad magic")                        \
	X(E_VERSION, "unsupported format version")                             \
	X(E_UNSUPPORTED, "operation not supported here")                       \
	X(E_STATE, "object is in the wrong state for this operation")          \
	X(E_NOTFOUND, "no such object")                                        \
	X(E_EXISTS, "object already exists")                                   \
	X(E_QUOTA, "quota or budget exceeded")                                 \
	X(E_EXPIRED, "lease or token has expired")                             \
	X(E_ALIAS, "writable memory would be shared by two partitions")        \
	X(E_TIMEOUT, "operation timed out")                                    \
	X(E_TRAP, "agent trapped")                                             \
	X(E_FUEL, "fuel exhausted")                                            \
	X(E_MALFORMED, "malformed input")                                      \
	X(E_INVALID_MODULE, "module fails validation")                         \
	X(E_LINK, "unresolved or mismatched import")                           \
	X(E_BUSY, "resource busy")                                             \
	X(E_DEGRADED, "coherence engine degraded")                             \
	X(E_OVERFLOW, "arithmetic overflow")                                   \
	X(E_BOOT, "boot phase failed")                                         \
	X(E_BUDGET_COMPUTE, "GPU compute-time budget of this epoch exceeded")  \
	X(E_BUDGET_MEMORY, "GPU device-memory budget exceeded")                \
	X(E_BUDGET_TRANSFER, "GPU transfer budget of this epoch exceeded")     \
	X(E_BUDGET_LAUNCHES, "GPU launch budget of this epoch exceeded")       \
	X(E_DIVERGED, "a replay did not reproduce the recorded run")

enum rvm_err {
#define RVM_ERR_ENUM(name, msg) RVM_##name,
	RVM_ERR_LIST(RVM_ERR_ENUM)
#undef RVM_ERR_ENUM
	RVM_ERR_COUNT
};

/* Human-readable message for a code; never NULL (unknown codes say so). */
const char *rvm_err_str(enum rvm_err err);
/* Symbolic name, e.g. "RVM_E_PERM"; never NULL. */
const char *rvm_err_name(enum rvm_err err);

#endif
