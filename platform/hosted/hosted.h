/* platform/hosted/hosted.h - RVM as a Linux process: the POSIX implementation of rvm_platform. */
#ifndef RVM_HOSTED_H
#define RVM_HOSTED_H

#include <stdbool.h>
#include <stdint.h>

#include <rvm/platform.h>

#include "ckpt_store.h"

#define RVM_HOSTED_PATH_MAX 4096

enum rvm_hosted_flags {
	RVM_HOSTED_TRUNCATE = 1u << 0, /* start the sinks empty (a new run) */
	RVM_HOSTED_QUIET = 1u << 1,    /* drop console output */
	RVM_HOSTED_SYNC_STORE = 1u << 2, /* no checkpoint_put_async: every put waits for the disk */
};

/* State of the hosted platform; the caller owns it. */
struct rvm_hosted {
	int sink_fd[RVM_SINK_COUNT]; /* -1 when no run directory */
	char dir[RVM_HOSTED_PATH_MAX];
	uint32_t ncpus;
	unsigned flags;
	struct rvm_hosted_store store; /* checkpoints/ (its writer thread starts on first use) */
};

/*
 * Fills *out with the hosted services. With run_dir non-NULL, creates the
 * directory if needed and opens witness.log and journal.log in it for
 * appending, and checkpoints/ for the checkpoint store. Without it, the sinks
 * and the checkpoint store return RVM_E_UNSUPPORTED. The store offers
 * checkpoint_put_async (one writer thread, RVM_HOSTED_STORE_DEPTH queued puts)
 * unless flags has RVM_HOSTED_SYNC_STORE.
 */
enum rvm_err rvm_hosted_open(struct rvm_hosted *h, const char *run_dir, unsigned flags,
			     struct rvm_platform *out);
/* Writes what the checkpoint store has queued, stops its writer, closes the sinks. */
void rvm_hosted_close(struct rvm_hosted *h);
/* Tells the platform which virtual CPU the calling thread runs. */
void rvm_hosted_bind_cpu(uint32_t cpu);

#endif
