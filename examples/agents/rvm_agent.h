/* examples/agents/rvm_agent.h - what an RVM agent written in C imports from its host, plus helpers. */
#ifndef RVM_EXAMPLE_AGENT_H
#define RVM_EXAMPLE_AGENT_H

#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("rvm"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name), visibility("default")))

/* The host functions (include/rvm/agent.h has their contracts). */
IMPORT("send") int32_t rvm_send(int32_t edge, const void *p, int32_t len);
IMPORT("recv") int32_t rvm_recv(void *p, int32_t cap);
IMPORT("yield") void rvm_yield(void);
IMPORT("now") int64_t rvm_now(void);
IMPORT("log") void rvm_log(const char *p, int32_t len);
IMPORT("spawn") int32_t rvm_spawn(const char *name, int32_t len);
IMPORT("edge") int32_t rvm_edge(void);
IMPORT("poll") int32_t rvm_poll(void *p, int32_t cap);
/* GPU compute (docs/gpu.md): caps are i64 handles; a refusal is -(enum rvm_err). */
IMPORT("gpu_open") int32_t rvm_gpu_open(uint64_t caps[2]);
IMPORT("gpu_alloc") int64_t rvm_gpu_alloc(int64_t ctx, int64_t size);
IMPORT("gpu_free") int32_t rvm_gpu_free(int64_t cap);
IMPORT("gpu_write") int32_t rvm_gpu_write(int64_t buf, int64_t off, const void *p, int32_t len);
IMPORT("gpu_read") int32_t rvm_gpu_read(int64_t buf, int64_t off, void *p, int32_t len);
IMPORT("gpu_queue") int64_t rvm_gpu_queue(int64_t ctx);
IMPORT("gpu_kernel") int64_t rvm_gpu_kernel(int64_t ctx, const char *src, int32_t src_len,
					   const char *name, int32_t name_len);
IMPORT("gpu_launch") int32_t rvm_gpu_launch(const void *req, int32_t len);
IMPORT("gpu_budget") int32_t rvm_gpu_budget(uint64_t out[8]);

#define RVM_FULL (-1)
#define RVM_NO_EDGE (-2)

/* Sends, retrying while the ring is full; returns 0 or the host's error. */
static inline int32_t send_wait(int32_t edge, const void *p, int32_t len)
{
	int32_t r;

	while ((r = rvm_send(edge, p, len)) == RVM_FULL)
		rvm_yield();
	return r;
}

/* Receives the next message; rvm.recv blocks (the host suspends the call) until one comes. */
static inline int32_t recv_wait(void *p, int32_t cap)
{
	return rvm_recv(p, cap);
}

static inline uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Writes "prefix N" and logs it. */
static inline void log_num(const char *prefix, int64_t v)
{
	char b[48];
	int n = 0, nd = 0;
	char d[20];
	uint64_t u = v < 0 ? (uint64_t)-v : (uint64_t)v;

	while (*prefix && n < 24)
		b[n++] = *prefix++;
	b[n++] = ' ';
	if (v < 0)
		b[n++] = '-';
	do {
		d[nd++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (nd)
		b[n++] = d[--nd];
	rvm_log(b, n);
}

#endif
