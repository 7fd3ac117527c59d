/* tests/support/memplat.c - a platform in memory for unit tests: sink streams in buffers, a
 * checkpoint store of objects, a clock that ticks per reading, failures on demand. */
#include "memplat.h"

#include "support.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mp_now(void *ctx)
{
	struct rvm_memplat *m = ctx;

	return m->clock += m->tick;
}

static uint32_t mp_cpus(void *ctx)
{
	return ((struct rvm_memplat *)ctx)->cpus;
}

/* Room for n more bytes in stream s: grown (doubling), or refused past the limit. */
static enum rvm_err mp_room(struct rvm_memplat *m, enum rvm_sink_stream s, size_t n)
{
	size_t want = m->len[s] + n;
	uint8_t *nb;

	if (m->limit)
		return want > m->limit ? RVM_E_IO : RVM_OK;
	if (want <= m->cap[s])
		return RVM_OK;
	if (!(nb = realloc(m->buf[s], want * 2)))
		return RVM_E_NOMEM;
	m->buf[s] = nb;
	m->cap[s] = want * 2;
	return RVM_OK;
}

static enum rvm_err mp_append(void *ctx, enum rvm_sink_stream s, const void *b, size_t n)
{
	struct rvm_memplat *m = ctx;
	enum rvm_err e;

	if ((unsigned)s >= RVM_SINK_COUNT)
		return RVM_E_INVAL;
	if (m->absent & (1u << s))
		return RVM_E_UNSUPPORTED;
	if (m->fail || m->fail_after == 0)
		return RVM_E_IO;
	if ((e = mp_room(m, s, n)) != RVM_OK)
		return e;
	if (m->fail_after > 0)
		m->fail_after--;
	memcpy(m->buf[s] + m->len[s], b, n);
	m->len[s] += n;
	m->appends++;
	if (m->on_append)
		m->on_append(m, s);
	return RVM_OK;
}

static enum rvm_err mp_sync(void *ctx, enum rvm_sink_stream s)
{
	struct rvm_memplat *m = ctx;

	if ((unsigned)s >= RVM_SINK_COUNT)
		return RVM_E_INVAL;
	if (m->absent & (1u << s))
		return RVM_E_UNSUPPORTED;
	if (m->fail)
		return RVM_E_IO;
	m->syncs++;
	return RVM_OK;
}

static enum rvm_err mp_entropy(void *ctx, void *buf, size_t n)
{
	memset(buf, ((struct rvm_memplat *)ctx)->entropy, n);
	return RVM_OK;
}

static enum rvm_err mp_put(void *ctx, uint64_t id, const void *buf, size_t n)
{
	struct rvm_memplat *m = ctx;
	uint32_t i = 0;
	uint8_t *copy;

	if (m->store_fail)
		return RVM_E_IO;
	while (i < m->nobj && m->id[i] != id)
		i++;
	if (i == RVM_MEMPLAT_STORE)
		return RVM_E_NOMEM;
	if (!(copy = malloc(n ? n : 1)))
		return RVM_E_NOMEM;
	memcpy(copy, buf, n);
	free(m->obj[i]);
	m->obj[i] = copy;
	m->id[i] = id;
	m->objlen[i] = n;
	m->nobj += i == m->nobj;
	return RVM_OK;
}

static enum rvm_err mp_get(void *ctx, uint64_t id, void *buf, size_t cap, size_t *len)
{
	struct rvm_memplat *m = ctx;

	for (uint32_t i = 0; i < m->nobj; i++)
		if (m->id[i] == id) {
			memcpy(buf, m->obj[i], m->objlen[i] < cap ? m->objlen[i] : cap);
			*len = m->objlen[i];
			return RVM_OK;
		}
	return RVM_E_NOTFOUND;
}

static void store_clear(struct rvm_memplat *m)
{
	for (uint32_t i = 0; i < m->nobj; i++) {
		free(m->obj[i]);
		m->obj[i] = NULL;
	}
	m->nobj = 0;
}

void rvm_memplat_reset(struct rvm_memplat *m, struct rvm_platform *p, uint64_t tick, size_t limit)
{
	for (int s = 0; s < RVM_SINK_COUNT; s++) {
		if (limit != m->limit || !m->buf[s]) { /* another size: allocated again */
			free(m->buf[s]);
			m->buf[s] = limit ? malloc(limit) : NULL;
			m->cap[s] = limit;
			assert_true(!limit || m->buf[s]);
		}
		m->len[s] = 0;
	}
	store_clear(m);
	m->limit = limit;
	m->clock = 0;
	m->tick = tick;
	m->cpus = 1;
	m->entropy = 0x5a;
	m->fail = false;
	m->fail_after = -1;
	m->absent = 0;
	m->appends = m->syncs = 0;
	m->on_append = NULL;
	m->store_fail = false;
	*p = (struct rvm_platform){.ctx = m,
				   .name = "mem",
				   .now_ns = mp_now,
				   .cpu_count = mp_cpus,
				   .sink_append = mp_append,
				   .sink_sync = mp_sync,
				   .checkpoint_put = mp_put,
				   .checkpoint_get = mp_get,
				   .entropy = mp_entropy};
}

void rvm_memplat_free(struct rvm_memplat *m)
{
	for (int s = 0; s < RVM_SINK_COUNT; s++) {
		free(m->buf[s]);
		m->buf[s] = NULL;
		m->len[s] = m->cap[s] = 0;
	}
	store_clear(m);
}
