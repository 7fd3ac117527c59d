/* platform/common/frame.h - sink bytes as framed console lines, the bare-metal boards' one channel
 * to the host. */
#ifndef RVM_FRAME_H
#define RVM_FRAME_H

#include <stddef.h>

#include <rvm/err.h>
#include <rvm/platform.h>

/*
 * A line is "@rvm:<kind>:<hex>\n" with at most RVM_FRAME_BYTES bytes of payload; kinds are
 * 'w' (witness stream), 'j' (journal) and 'k' (the boot's public key). tests/qemu/runner.c
 * turns the lines back into files; anything else on the console is console text.
 */
#define RVM_FRAME_PREFIX "@rvm:"
#define RVM_FRAME_BYTES	 64u

/* Writes n bytes to the console. Must write the whole line before another line starts
 * (a board with several CPUs takes a lock around it). */
typedef void rvm_frame_write_fn(const char *s, size_t n);

/* Writes buf as framed lines of kind, each in one call of write. */
void rvm_frame_write(rvm_frame_write_fn *write, char kind, const void *buf, size_t n);
/* A platform's sink_append over the console: stream s as its kind. RVM_E_INVAL for a stream
 * that does not exist. */
enum rvm_err rvm_frame_sink_append(rvm_frame_write_fn *write, enum rvm_sink_stream s,
				   const void *buf, size_t n);

#endif
