/* tests/unit/test_checkpoint.c - partition checkpoints: capture, store, witness, hostile bytes,
 * restore. */
#include "support.h"

#include <stdio.h>

#include "test_checkpoint_fixture.h"

static uint8_t ckbuf[12u << 20];

/* Text-like contents that compress, with some noise. */
static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	static const char text[] =
		"{\"agent\":7,\"epoch\":123,\"state\":\"thinking\",\"t\":[1,2,3]}\n";

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)text[(i + seed) % (sizeof(text) - 1)];
	for (size_t i = 0; i < n; i += 997)
		p[i] = (uint8_t)rvm_test_rand(&seed);
}

static rvm_region_id make_region(struct kfix *k, uint32_t owner, uint64_t size, uint64_t seed)
{
	rvm_region_id id;
	static uint8_t tmp[1u << 16];

	assert_int_equal(
		rvm_region_create(&k->space, 0, owner, size, RVM_REGION_DATA, true, 1, &id),
		RVM_OK);
	fill(tmp, size < sizeof(tmp) ? size : sizeof(tmp), seed);
	assert_int_equal(rvm_region_write(&k->space, owner, 7, id, 0, tmp,
					  (uint32_t)(size < sizeof(tmp) ? size : sizeof(tmp)),
					  NULL),
			 RVM_OK);
	return id;
}

static void digest(struct kfix *k, uint32_t p, uint8_t out[32])
{
	assert_int_equal(rvm_partition_digest(&k->space, p, NULL, NULL, out), RVM_OK);
}

/* Partition 1: a hot region, a dormant one, a cold one; two agents; caps; an edge 1 -> 2. */
struct scene {
	rvm_region_id hot, dormant, cold, other;
	rvm_cap_t caps[2];
	struct rvm_edge_caps edge;
	struct rvm_ckpt_agent agents[2];
	uint8_t snap0[100], snap1[3000];
};

static struct kfix *scene_new(struct scene *sc)
{
	struct kfix *k = kfix_new(2, sc->caps);
	struct rvm_ipc_desc d = {.region = 0, .tag = 9, .offset = 0, .length = 64};

	sc->hot = make_region(k, 1, 64 * 1024, 1);
	sc->dormant = make_region(k, 1, 16 * 1024, 2);
	sc->cold = make_region(k, 1, 8 * 1024, 3);
	sc->other = make_region(k, 2, 32 * 1024, 4);
	assert_int_equal(rvm_region_set_tier(&k->space, 0, sc->dormant, RVM_TIER_DORMANT), RVM_OK);
	assert_int_equal(rvm_region_set_tier(&k->space, 0, sc->cold, RVM_TIER_COLD), RVM_OK);
	/* Caps in partition 1's own table. */
	(void)cap_fixture_root(k->f, 1, RVM_OBJ_REGION, RVM_RIGHTS_ALL, NULL);
	(void)cap_fixture_root(k->f, 1, RVM_OBJ_LEASE, RVM_RIGHT_READ, NULL);
	assert_int_equal(rvm_edge_create(&k->ipc, 0, sc->caps[0], sc->caps[1], &sc->edge), RVM_OK);
	for (int i = 0; i < 3; i++) {
		d.tag = 100 + (uint64_t)i;
		assert_int_equal(rvm_ipc_send(&k->ipc, 1, sc->edge.send, &d), RVM_OK);
	}
	memset(sc->snap0, 0xA5, sizeof(sc->snap0));
	for (size_t i = 0; i < sizeof(sc->snap1); i++)
		sc->snap1[i] = (uint8_t)(i * 7);
	sc->agents[0] = (struct rvm_ckpt_agent){11, sc->snap0, sizeof(sc->snap0)};
	sc->agents[1] = (struct rvm_ckpt_agent){12, sc->snap1, sizeof(sc->snap1)};
	return k;
}

static void take(struct kfix *k, struct scene *sc, struct rvm_ckpt_info *info)
{
	size_t bound = 0;

	assert_int_equal(rvm_checkpoint_bound(&k->ck, 1, sc->agents, 2, &bound), RVM_OK);
	assert_true(bound <= sizeof(ckbuf));
	assert_int_equal(rvm_checkpoint_take(&k->ck, 1, sc->agents, 2, ckbuf, bound, info), RVM_OK);
}

static void test_take_parse_roundtrip(void **state)
{
	struct scene sc;
	struct kfix *k = scene_new(&sc);
	struct rvm_ckpt_info info;
	struct rvm_ckpt_view v;
	struct rvm_ckpt_region re;
	struct rvm_ckpt_agent ag;
	struct rvm_ckpt_cap cp;
	struct rvm_ckpt_edge ed;
	const struct rvm_witness_record *w;
	struct kf_object *o;
	uint8_t chain_before[32], d[32];
	uint32_t pos = 0;
	size_t off = 0;
	int n = 0;

	(void)state;
	memcpy(chain_before, k->f->wlog.digest, 32);
	take(k, &sc, &info);
	assert_int_equal(info.regions, 3);
	assert_int_equal(info.agents, 2);
	assert_int_equal(info.caps, 3); /* two roots and the edge's send cap */
	assert_int_equal(info.edges, 1);
	assert_true(info.id == RVM_CKPT_ID(1, info.seq));
	/* Announced by a record at exactly the seq it is bound to. */
	w = rvm_witness_get(&k->f->wlog, info.seq);
	assert_non_null(w);
	assert_int_equal(w->action, RVM_ACT_STATE_CHECKPOINT);
	assert_true(w->target == 1 && w->arg0 == info.id);
	assert_true(w->arg1 ==
		    (uint64_t)info.sha256[0] + ((uint64_t)info.sha256[1] << 8) +
			    ((uint64_t)info.sha256[2] << 16) + ((uint64_t)info.sha256[3] << 24) +
			    ((uint64_t)info.sha256[4] << 32) + ((uint64_t)info.sha256[5] << 40) +
			    ((uint64_t)info.sha256[6] << 48) + ((uint64_t)info.sha256[7] << 56));
	/* The stored object is the same bytes, and it parses. */
	o = kf_object(k, info.id);
	assert_non_null(o);
	assert_true(o->len == info.len);
	assert_memory_equal(o->buf, ckbuf, info.len);
	assert_int_equal(rvm_checkpoint_parse(o->buf, o->len, NULL, &v), RVM_OK);
	assert_int_equal(v.partition, 1);
	assert_true(v.seq == info.seq);
	assert_memory_equal(v.chain, chain_before, 32);
	assert_memory_equal(v.sha256, info.sha256, 32);
	/* Regions: ids, tiers and content digests as live. */
	while (rvm_ckpt_next_region(&v, &pos, &off, &re) == RVM_OK) {
		assert_true(re.id == sc.hot || re.id == sc.dormant || re.id == sc.cold);
		assert_int_equal(rvm_region_content_digest(&k->space, re.id, d), RVM_OK);
		assert_memory_equal(d, re.digest, 32);
		assert_int_equal(re.tier, rvm_region_get(&k->space, re.id)->tier);
		assert_true(re.image_len < (4096u << re.order)); /* compressed */
		n++;
	}
	assert_int_equal(n, 3);
	assert_int_equal(rvm_ckpt_find_agent(&v, 12, &ag), RVM_OK);
	assert_true(ag.len == sizeof(sc.snap1));
	assert_memory_equal(ag.snap, sc.snap1, sizeof(sc.snap1));
	assert_int_equal(rvm_ckpt_find_agent(&v, 13, &ag), RVM_E_NOTFOUND);
	pos = 0;
	n = 0;
	while (rvm_ckpt_next_cap(&v, &pos, &cp) == RVM_OK) {
		const struct rvm_cap *live = &k->f->caps.tables[1].slots[cp.slot];

		assert_int_equal(live->state, RVM_CAPS_LIVE);
		assert_true(live->object == cp.object && live->gen == cp.gen);
		assert_int_equal(live->rights, cp.rights);
		assert_memory_equal(live->digest, cp.digest, RVM_CAP_DIGEST);
		n++;
	}
	/* The edge's send cap lives in table 1 too. */
	assert_int_equal(n, 3);
	pos = 0;
	assert_int_equal(rvm_ckpt_next_edge(&v, &pos, &off, &ed), RVM_OK);
	assert_true(ed.id == sc.edge.id && ed.src == 1 && ed.dst == 2);
	assert_int_equal(ed.head - ed.tail, 3);
	assert_int_equal(ed.sent, 3);
	assert_int_equal(ed.desc[8], 100); /* first queued descriptor's tag */
	assert_int_equal(rvm_ckpt_next_edge(&v, &pos, &off, &ed), RVM_E_NOTFOUND);
	assert_int_equal(rvm_region_check_invariants(&k->space), RVM_OK);
	kfix_free(k);
}

/* Too small a buffer, a failing store, a damaged dormant image: refused, nothing stored. */
static void test_take_refusals(void **state)
{
	struct scene sc;
	struct kfix *k = scene_new(&sc);
	struct rvm_ckpt_info info;
	const struct rvm_region_extent *e;
	uint64_t puts = k->puts;
	uint64_t seq;

	(void)state;
	seq = k->f->wlog.next_seq;
	assert_int_equal(rvm_checkpoint_take(&k->ck, 1, sc.agents, 2, ckbuf, 5000, &info),
			 RVM_E_NOMEM);
	assert_true(k->puts == puts);
	assert_int_equal(cap_fixture_last(k->f)->action, RVM_ACT_GATE_DENIED);
	assert_true(cap_fixture_last(k->f)->arg0 == RVM_ACT_STATE_CHECKPOINT);
	assert_true(k->f->wlog.next_seq == seq + 1);
	assert_int_equal(rvm_checkpoint_take(&k->ck, RVM_MAX_PARTITIONS, NULL, 0, ckbuf,
					     sizeof(ckbuf), &info),
			 RVM_E_RANGE);
	k->fail_put = RVM_E_IO;
	assert_int_equal(rvm_checkpoint_take(&k->ck, 1, sc.agents, 2, ckbuf, sizeof(ckbuf), &info),
			 RVM_E_IO);
	k->fail_put = RVM_OK;
	/* A flipped byte in the dormant image: the checkpoint would carry damage, so no. */
	e = NULL;
	for (uint32_t i = 0; i < k->store.n; i++)
		if (k->store.ext[i].slot == (uint32_t)sc.dormant)
			e = &k->store.ext[i];
	assert_non_null(e);
	k->store_buf[e->off + e->len / 2] ^= 0x40;
	assert_int_equal(rvm_checkpoint_take(&k->ck, 1, sc.agents, 2, ckbuf, sizeof(ckbuf), &info),
			 RVM_E_CORRUPT);
	k->store_buf[e->off + e->len / 2] ^= 0x40;
	/* A cold image cut short in the store. */
	{
		struct kf_object *o = kf_object(k, RVM_REGION_COLD_ID(sc.cold));

		assert_non_null(o);
		o->len -= 3;
		assert_int_equal(
			rvm_checkpoint_take(&k->ck, 1, sc.agents, 2, ckbuf, sizeof(ckbuf), &info),
			RVM_E_CORRUPT);
		o->len += 3;
	}
	assert_true(k->puts == puts);
	assert_int_equal(rvm_checkpoint_take(&k->ck, 1, sc.agents, 2, ckbuf, sizeof(ckbuf), &info),
			 RVM_OK);
	kfix_free(k);
}

/* Roll back: writes, a new region, a destroyed one, a new cap; another partition untouched. */
static void test_restore_rolls_back(void **state)
{
	struct scene sc;
	struct kfix *k = scene_new(&sc);
	struct rvm_ckpt_info info;
	struct rvm_ckpt_view v;
	struct rvm_ckpt_restore_stats st;
	uint8_t d1[32], d2[32], now[32], junk[512];
	rvm_region_id extra;
	rvm_cap_t granted;
	uint32_t live_before;

	(void)state;
	take(k, &sc, &info);
	digest(k, 1, d1);
	digest(k, 2, d2);
	live_before = k->f->caps.tables[1].live;
	/* Partition 1 moves on. */
	memset(junk, 0xEE, sizeof(junk));
	assert_int_equal(rvm_region_write(&k->space, 1, 7, sc.hot, 100, junk, sizeof(junk), NULL),
			 RVM_OK);
	assert_int_equal(
		rvm_region_create(&k->space, 1, 1, 4096, RVM_REGION_STACK, true, 2, &extra),
		RVM_OK);
	assert_int_equal(rvm_region_destroy(&k->space, 1, sc.cold), RVM_OK);
	assert_int_equal(rvm_region_set_tier(&k->space, 1, sc.dormant, RVM_TIER_HOT), RVM_OK);
	assert_int_equal(rvm_region_map(&k->space, 1, sc.hot, 1, true), RVM_OK);
	assert_int_equal(rvm_cap_grant(&k->f->gate, 0, sc.caps[0], 1, RVM_RIGHT_READ, &granted),
			 RVM_OK);
	digest(k, 1, now);
	assert_memory_not_equal(now, d1, 32);
	/* ... and is rolled back. */
	assert_int_equal(rvm_checkpoint_parse(kf_object(k, info.id)->buf,
					      kf_object(k, info.id)->len, NULL, &v),
			 RVM_OK);
	assert_int_equal(rvm_checkpoint_restore(&k->ck, &v, 1, &st), RVM_OK);
	assert_int_equal(st.regions, 3);
	assert_int_equal(st.regions_dropped, 1);
	assert_int_equal(st.caps_removed, 1);
	assert_int_equal(st.caps_lost, 0);
	assert_int_equal(st.edges, 1);
	digest(k, 1, now);
	assert_memory_equal(now, d1, 32);
	digest(k, 2, now);
	assert_memory_equal(now, d2, 32);
	assert_null(rvm_region_get(&k->space, extra));
	assert_non_null(rvm_region_get(&k->space, sc.cold));
	assert_int_equal(rvm_region_get(&k->space, sc.cold)->tier, RVM_TIER_WARM);
	assert_int_equal(rvm_region_get(&k->space, sc.hot)->nmaps, 0);
	assert_int_equal(k->f->caps.tables[1].live, live_before);
	assert_int_equal(rvm_cap_check_invariants(&k->f->caps), RVM_OK);
	assert_int_equal(rvm_region_check_invariants(&k->space), RVM_OK);
	assert_int_equal(cap_fixture_last(k->f)->action, RVM_ACT_STATE_RESTORE);
	assert_true(cap_fixture_last(k->f)->target == 1 && cap_fixture_last(k->f)->arg0 == info.id);
	/* The partition works on: map, write, go dormant and come back. */
	assert_int_equal(rvm_region_map(&k->space, 1, sc.hot, 1, true), RVM_OK);
	assert_int_equal(rvm_region_unmap(&k->space, 1, sc.hot, 1), RVM_OK);
	assert_int_equal(rvm_region_set_tier(&k->space, 1, sc.cold, RVM_TIER_COLD), RVM_OK);
	assert_int_equal(rvm_region_set_tier(&k->space, 1, sc.cold, RVM_TIER_HOT), RVM_OK);
	digest(k, 1, now);
	assert_memory_equal(now, d1, 32);
	/* Revoked authority is never restored. */
	assert_int_equal(rvm_cap_table_clear(&k->f->gate, 1), RVM_OK);
	assert_int_equal(rvm_checkpoint_restore(&k->ck, &v, 1, &st), RVM_OK);
	assert_int_equal(st.caps_lost, 3);
	assert_int_equal(k->f->caps.tables[1].live, 0);
	assert_int_equal(rvm_checkpoint_restore(&k->ck, &v, 2, &st), RVM_E_INVAL);
	kfix_free(k);
}

/*
 * Edges roll back with the partition: the receiver's side gets back what it received since
 * its checkpoint (in order, ahead of what was sent since), the sender's side takes back its
 * sends since that are still queued; the peer's own history stays.
 */
static void test_restore_rolls_back_edges(void **state)
{
	static uint8_t buf2[1u << 20];
	struct scene sc;
	struct kfix *k = scene_new(&sc);
	struct rvm_ckpt_info i1, i2;
	struct rvm_ckpt_view v1, v2;
	struct rvm_ckpt_restore_stats st;
	struct rvm_ipc_desc d = {.region = 0, .tag = 0, .offset = 0, .length = 64};
	struct rvm_edge *e = rvm_edge_find(&k->ipc, sc.edge.id);

	(void)state;
	/* Checkpoints of both ends with 3 messages queued (tags 100..102). */
	take(k, &sc, &i1);
	assert_int_equal(rvm_checkpoint_take(&k->ck, 2, NULL, 0, buf2, sizeof(buf2), &i2), RVM_OK);
	assert_int_equal(i2.edges, 1);
	/* Both move on: 1 sends 103, 104; 2 receives four of the five. */
	for (int i = 3; i < 5; i++) {
		d.tag = 100 + (uint64_t)i;
		assert_int_equal(rvm_ipc_send(&k->ipc, 1, sc.edge.send, &d), RVM_OK);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(rvm_ipc_recv(&k->ipc, 2, sc.edge.recv, &d), RVM_OK);
	assert_true(e->head == 5 && e->tail == 4 && e->received == 4 && e->sent == 5);
	/* Partition 1 goes back: its send of 104 nobody saw is taken back, 103 stays (received). */
	assert_int_equal(
		rvm_checkpoint_parse(kf_object(k, i1.id)->buf, kf_object(k, i1.id)->len, NULL, &v1),
		RVM_OK);
	assert_int_equal(rvm_checkpoint_restore(&k->ck, &v1, 1, &st), RVM_OK);
	assert_true(st.edges_rolled == 1 && st.msgs_withdrawn == 1 && st.msgs_requeued == 0);
	assert_true(e->head == 4 && e->tail == 4 && e->sent == 4 && e->received == 4);
	/* 1 sends 105; partition 2 goes back: 100..103 are queued again, then 105. */
	d.tag = 105;
	assert_int_equal(rvm_ipc_send(&k->ipc, 1, sc.edge.send, &d), RVM_OK);
	assert_int_equal(rvm_checkpoint_parse(buf2, i2.len, NULL, &v2), RVM_OK);
	assert_int_equal(rvm_checkpoint_restore(&k->ck, &v2, 2, &st), RVM_OK);
	assert_true(st.edges_rolled == 1 && st.msgs_requeued == 4 && st.msgs_withdrawn == 0);
	assert_true(e->tail == 0 && e->head == 5 && e->received == 0);
	for (uint64_t want = 100; want <= 105; want++) {
		if (want == 104)
			continue;
		assert_int_equal(rvm_ipc_recv(&k->ipc, 2, sc.edge.recv, &d), RVM_OK);
		assert_int_equal(d.tag, want);
	}
	assert_int_equal(rvm_ipc_recv(&k->ipc, 2, sc.edge.recv, &d), RVM_E_EMPTY);
	/* More than a ring sent since the receiver's checkpoint: refused, nothing changes. */
	for (uint32_t i = 0; i < RVM_IPC_RING; i++) {
		assert_int_equal(rvm_ipc_send(&k->ipc, 1, sc.edge.send, &d), RVM_OK);
		assert_int_equal(rvm_ipc_recv(&k->ipc, 2, sc.edge.recv, &d), RVM_OK);
	}
	assert_int_equal(rvm_checkpoint_restore(&k->ck, &v2, 2, &st), RVM_E_FULL);
	assert_true(e->tail == e->head && e->received == 5 + RVM_IPC_RING);
	/* A caller that keeps edges (the swarm) leaves them as they are. */
	k->ck.keep = RVM_CKPT_KEEP_EDGES;
	assert_int_equal(rvm_checkpoint_restore(&k->ck, &v2, 2, &st), RVM_OK);
	assert_true(st.edges_rolled == 0 && e->tail == e->head);
	k->ck.keep = 0;
	/* An edge destroyed since stays destroyed. */
	assert_int_equal(rvm_edge_destroy(&k->ipc, 0, sc.edge.owner), RVM_OK);
	assert_int_equal(rvm_checkpoint_restore(&k->ck, &v2, 2, &st), RVM_OK);
	assert_true(st.edges_gone == 1 && st.edges_rolled == 0);
	assert_null(rvm_edge_find(&k->ipc, sc.edge.id));
	kfix_free(k);
}

/* Refusals of restore leave everything as it was. */
static void test_restore_refusals(void **state)
{
	struct scene sc;
	struct kfix *k = scene_new(&sc);
	struct rvm_ckpt_info info;
	struct rvm_ckpt_view v;
	uint8_t d1[32], d2[32], now[32];
	uint64_t addrs[4096];
	int n = 0;

	(void)state;
	take(k, &sc, &info);
	assert_int_equal(rvm_checkpoint_parse(ckbuf, info.len, NULL, &v), RVM_OK);
	/* The region moved to partition 2 since: the rollback of 1 leaves it with 2. */
	assert_int_equal(rvm_region_transfer(&k->space, 1, sc.hot, 2), RVM_OK);
	digest(k, 2, d2);
	{
		struct rvm_ckpt_restore_stats st;

		assert_int_equal(rvm_checkpoint_restore(&k->ck, &v, 1, &st), RVM_OK);
		assert_int_equal(st.regions_elsewhere, 1);
		assert_int_equal(st.regions, 2);
	}
	digest(k, 2, now);
	assert_memory_equal(now, d2, 32);
	assert_int_equal(rvm_region_get(&k->space, sc.hot)->owner, 2);
	assert_int_equal(rvm_region_transfer(&k->space, 2, sc.hot, 1), RVM_OK);
	assert_int_equal(rvm_region_check_invariants(&k->space), RVM_OK);
	/* No memory for the blocks: NOMEM, nothing changed, every block given back. */
	while (n < 4096 && rvm_buddy_alloc(&k->buddy, 0, 0, &addrs[n]) == RVM_OK)
		n++;
	digest(k, 1, d1);
	assert_int_equal(rvm_checkpoint_restore(&k->ck, &v, 1, NULL), RVM_E_NOMEM);
	digest(k, 1, now);
	assert_memory_equal(now, d1, 32);
	assert_int_equal(k->buddy.free_frames, 0);
	while (n > 0)
		assert_int_equal(rvm_buddy_free(&k->buddy, addrs[--n]), RVM_OK);
	assert_int_equal(rvm_region_check_invariants(&k->space), RVM_OK);
	assert_int_equal(rvm_checkpoint_restore(&k->ck, &v, 1, NULL), RVM_OK);
	kfix_free(k);
}

/* Rewrites the trailer so that structural checks, not the hash, must catch a change. */
static void rehash(uint8_t *b, size_t len)
{
	rvm_sha256(NULL, b, len - 32, b + len - 32);
}

static void test_parse_hostile(void **state)
{
	struct scene sc;
	struct kfix *k = scene_new(&sc);
	struct rvm_ckpt_info info;
	struct rvm_ckpt_view v;
	static uint8_t b[1u << 20];
	size_t len;
	uint64_t rnd = 77;

	(void)state;
	take(k, &sc, &info);
	len = info.len;
	assert_true(len <= sizeof(b));
	/* Every prefix is refused. */
	for (size_t n = 0; n < len; n += (n < 300 ? 1 : 97))
		assert_int_not_equal(rvm_checkpoint_parse(ckbuf, n, NULL, &v), RVM_OK);
	assert_int_equal(rvm_checkpoint_parse(ckbuf, 7, NULL, &v), RVM_E_TRUNCATED);
	assert_int_equal(rvm_checkpoint_parse(ckbuf, 100, NULL, &v), RVM_E_TRUNCATED);
	/* Every flipped bit is caught by the trailer. */
	for (size_t i = 0; i < len; i += 1 + i / 64) {
		memcpy(b, ckbuf, len);
		b[i] ^= (uint8_t)(1u << (i % 8));
		assert_int_not_equal(rvm_checkpoint_parse(b, len, NULL, &v), RVM_OK);
	}
	memcpy(b, ckbuf, len);
	b[0] = 'X';
	assert_int_equal(rvm_checkpoint_parse(b, len, NULL, &v), RVM_E_FORMAT);
	/* Versions around the ones it reads (1 and 2). */
	memcpy(b, ckbuf, len);
	b[8] = RVM_CKPT_VERSION + 1;
	assert_int_equal(rvm_checkpoint_parse(b, len, NULL, &v), RVM_E_VERSION);
	b[8] = 0;
	assert_int_equal(rvm_checkpoint_parse(b, len, NULL, &v), RVM_E_VERSION);
	/* Structure lies under a valid trailer: each is refused by its own rule. */
	{
		static const struct {
			size_t off; /* from the start of the first region entry (offset 96) */
			uint8_t val;
		} lies[] = {
			{96 + 1, 0x04},	 /* slot 1024 and up: out of range */
			{96 + 3, 0x01},	 /* slot 2^24 */
			{96 + 4, 0x00},	 /* generation ... stays nonzero unless all four bytes */
			{96 + 20, 2},	 /* owner is not the partition */
			{96 + 24, 11},	 /* order above the largest */
			{96 + 25, 4},	 /* no such tier */
			{96 + 26, 9},	 /* no such type */
			{96 + 27, 2},	 /* writable is a bool */
			{96 + 28, 1},	 /* reserved */
			{96 + 19, 0x7F}, /* image length beyond the body */
			{88, 1},	 /* header reserved */
			{12, 0xFF},	 /* partition out of range... */
			{13, 0xFF},	 {64, 0xFF}, /* region count beyond the body */
			{68, 7},		     /* agent count */
		};
		for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
			memcpy(b, ckbuf, len);
			b[lies[i].off] = lies[i].val;
			rehash(b, len);
			if (lies[i].off == 96 + 4) {
				memset(b + 96 + 4, 0, 4); /* generation 0 */
				rehash(b, len);
			}
			if (rvm_checkpoint_parse(b, len, NULL, &v) == RVM_OK)
				fail_msg("lie %zu accepted", i);
		}
	}
	/* Random mutations under a valid trailer: refused or parsed, never a crash; restore of
	 * whatever parses either succeeds or leaves the invariants intact. */
	for (int i = 0; i < 3000; i++) {
		enum rvm_err err;

		memcpy(b, ckbuf, len);
		for (int m = 0; m < 1 + i % 4; m++)
			b[rvm_test_rand(&rnd) % len] = (uint8_t)rvm_test_rand(&rnd);
		rehash(b, len);
		err = rvm_checkpoint_parse(b, len, NULL, &v);
		if (err != RVM_OK || i % 10)
			continue;
		err = rvm_checkpoint_restore(&k->ck, &v, v.partition, NULL);
		(void)err;
		assert_int_equal(rvm_region_check_invariants(&k->space), RVM_OK);
		assert_int_equal(rvm_cap_check_invariants(&k->f->caps), RVM_OK);
	}
	kfix_free(k);
}

/* A damaged image under a valid trailer: restore decodes before it changes anything. */
static void test_restore_corrupt_image(void **state)
{
	struct scene sc;
	struct kfix *k = scene_new(&sc);
	struct rvm_ckpt_info info;
	struct rvm_ckpt_view v;
	uint8_t d1[32], now[32];
	static uint8_t b[1u << 20];
	uint64_t free_before;

	(void)state;
	take(k, &sc, &info);
	memcpy(b, ckbuf, info.len);
	b[96 + RVM_CKPT_REGION_ENTRY + 40] ^= 0x01; /* inside the first region's image */
	rehash(b, info.len);
	assert_int_equal(rvm_checkpoint_parse(b, info.len, NULL, &v), RVM_OK);
	digest(k, 1, d1);
	free_before = k->buddy.free_frames;
	assert_int_equal(rvm_checkpoint_restore(&k->ck, &v, 1, NULL), RVM_E_CORRUPT);
	digest(k, 1, now);
	assert_memory_equal(now, d1, 32);
	assert_true(k->buddy.free_frames == free_before);
	assert_int_equal(rvm_region_check_invariants(&k->space), RVM_OK);
	kfix_free(k);
}

/*
 * Five regions of different sizes, a dormant one among them: take hashes the resident ones
 * two at a time and restore decodes them two at a time. Every digest must still be its own
 * region's, a rollback must bring every content back, and a damaged image anywhere (first or
 * second of a pair, or the odd one out) must be refused with nothing changed.
 */
static void test_regions_in_pairs(void **state)
{
	static const uint64_t sizes[5] = {64 * 1024, 16 * 1024, 8 * 1024, 4096, 32 * 1024};
	struct kfix *k = kfix_new(2, NULL);
	rvm_region_id id[5];
	struct rvm_ckpt_info info;
	struct rvm_ckpt_view v;
	struct rvm_ckpt_region re;
	struct rvm_ckpt_restore_stats st;
	uint8_t d1[32], now[32], junk[256];
	static uint8_t b[1u << 20];
	size_t bound = 0, off = 0;
	uint32_t pos = 0, n = 0;

	(void)state;
	/* The CPU's SHA-256 (two-message function where it has one), not the portable one. */
	k->f->plat.sha256 = rvm_sha256_detect();
	for (int i = 0; i < 5; i++)
		id[i] = make_region(k, 1, sizes[i], 10 + (uint64_t)i);
	assert_int_equal(rvm_region_set_tier(&k->space, 0, id[2], RVM_TIER_DORMANT), RVM_OK);
	assert_int_equal(rvm_checkpoint_bound(&k->ck, 1, NULL, 0, &bound), RVM_OK);
	assert_int_equal(rvm_checkpoint_take(&k->ck, 1, NULL, 0, ckbuf, bound, &info), RVM_OK);
	assert_int_equal(info.regions, 5);
	assert_int_equal(rvm_checkpoint_parse(ckbuf, info.len, NULL, &v), RVM_OK);
	while (rvm_ckpt_next_region(&v, &pos, &off, &re) == RVM_OK) {
		assert_int_equal(rvm_region_content_digest(&k->space, re.id, d1), RVM_OK);
		assert_memory_equal(d1, re.digest, 32);
		n++;
	}
	assert_int_equal(n, 5);
	digest(k, 1, d1);
	/* Every resident region is written over, then rolled back. */
	memset(junk, 0x3C, sizeof(junk));
	for (int i = 0; i < 5; i++)
		if (i != 2)
			assert_int_equal(rvm_region_write(&k->space, 1, 7, id[i], sizes[i] - 256,
							  junk, sizeof(junk), NULL),
					 RVM_OK);
	digest(k, 1, now);
	assert_memory_not_equal(now, d1, 32);
	assert_int_equal(rvm_checkpoint_restore(&k->ck, &v, 1, &st), RVM_OK);
	assert_int_equal(st.regions, 5);
	digest(k, 1, now);
	assert_memory_equal(now, d1, 32);
	/* One flipped byte in one image at a time: refused, nothing freed or changed. */
	for (int victim = 0; victim < 5; victim++) {
		uint64_t free_before = k->buddy.free_frames;

		memcpy(b, ckbuf, info.len);
		pos = 0;
		off = 0;
		for (int i = 0; i <= victim; i++)
			assert_int_equal(rvm_ckpt_next_region(&v, &pos, &off, &re), RVM_OK);
		b[(size_t)(re.image - ckbuf) + re.image_len - 3] ^= 0x40;
		rehash(b, info.len);
		{
			struct rvm_ckpt_view bad;

			assert_int_equal(rvm_checkpoint_parse(b, info.len, NULL, &bad), RVM_OK);
			assert_int_equal(rvm_checkpoint_restore(&k->ck, &bad, 1, NULL),
					 RVM_E_CORRUPT);
		}
		digest(k, 1, now);
		assert_memory_equal(now, d1, 32);
		assert_true(k->buddy.free_frames == free_before);
	}
	assert_int_equal(rvm_region_check_invariants(&k->space), RVM_OK);
	kfix_free(k);
}

/*
 * Version 2 seals each region entry (its fields and its image as stored): a changed byte of
 * either, even under a valid trailer, is refused by restore before anything changes, though
 * restore no longer hashes the decoded pages. Here: the last-access time, the tier, the content
 * digest, the seal itself, the image's first page length and a byte deep in its last page.
 */
static void test_restore_checks_seals(void **state)
{
	struct scene sc;
	struct kfix *k = scene_new(&sc);
	struct rvm_ckpt_info info;
	struct rvm_ckpt_view v;
	struct rvm_ckpt_region re;
	uint8_t d1[32], now[32];
	static uint8_t b[1u << 20];
	uint32_t pos = 0;
	size_t off = 0;

	(void)state;
	take(k, &sc, &info);
	assert_int_equal(rvm_checkpoint_parse(ckbuf, info.len, NULL, &v), RVM_OK);
	assert_int_equal(v.version, RVM_CKPT_VERSION);
	digest(k, 1, d1);
	while (rvm_ckpt_next_region(&v, &pos, &off, &re) == RVM_OK) {
		size_t head = (size_t)(re.image - ckbuf) - RVM_CKPT_REGION_ENTRY;
		const size_t at[] = {head + 8,	     head + 25, head + 32 + 5,
				     head + 64 + 31, head + 96, head + 96 + re.image_len - 1};

		assert_true(re.sealed);
		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			struct rvm_ckpt_view bad;
			uint64_t free_before = k->buddy.free_frames;

			memcpy(b, ckbuf, info.len);
			b[at[i]] ^= 0x01;
			rehash(b, info.len);
			assert_int_equal(rvm_checkpoint_parse(b, info.len, NULL, &bad), RVM_OK);
			if (rvm_checkpoint_restore(&k->ck, &bad, 1, NULL) != RVM_E_CORRUPT)
				fail_msg("region %llx byte %zu: accepted",
					 (unsigned long long)re.id, at[i] - head);
			digest(k, 1, now);
			assert_memory_equal(now, d1, 32);
			assert_true(k->buddy.free_frames == free_before);
		}
	}
	/* Behind a valid seal the decoder still refuses a malformed image: a page length of 0,
	 * one past the image's end, 4097. */
	pos = 0;
	off = 0;
	assert_int_equal(rvm_ckpt_next_region(&v, &pos, &off, &re), RVM_OK);
	for (int i = 0; i < 3; i++) {
		static const uint16_t plen[3] = {0, 0xFFFF, 4097};
		size_t head = (size_t)(re.image - ckbuf) - RVM_CKPT_REGION_ENTRY;
		struct rvm_ckpt_view bad;
		struct rvm_sha256 h;
		uint8_t seal[32];

		/* The seal as this test computes it is the one take wrote. */
		rvm_sha256_init(&h, NULL);
		rvm_sha256_update(&h, ckbuf + head, RVM_CKPT_REGION_ENTRY_V1);
		rvm_sha256_update(&h, re.image, re.image_len);
		rvm_sha256_final(&h, seal);
		assert_memory_equal(seal, re.seal, 32);
		memcpy(b, ckbuf, info.len);
		b[head + RVM_CKPT_REGION_ENTRY] = (uint8_t)plen[i];
		b[head + RVM_CKPT_REGION_ENTRY + 1] = (uint8_t)(plen[i] >> 8);
		rvm_sha256_init(&h, NULL);
		rvm_sha256_update(&h, b + head, RVM_CKPT_REGION_ENTRY_V1);
		rvm_sha256_update(&h, b + head + RVM_CKPT_REGION_ENTRY, re.image_len);
		rvm_sha256_final(&h, b + head + RVM_CKPT_REGION_ENTRY_V1);
		rehash(b, info.len);
		assert_int_equal(rvm_checkpoint_parse(b, info.len, NULL, &bad), RVM_OK);
		assert_int_equal(rvm_checkpoint_restore(&k->ck, &bad, 1, NULL), RVM_E_CORRUPT);
		digest(k, 1, now);
		assert_memory_equal(now, d1, 32);
	}
	assert_int_equal(rvm_region_check_invariants(&k->space), RVM_OK);
	kfix_free(k);
}

/*
 * The same checkpoint in version 1 (no seals: each region entry is 64 bytes), as an older RVM
 * stored it. Returns its length in out.
 */
static size_t to_version1(const uint8_t *in, size_t len, uint8_t *out)
{
	struct rvm_ckpt_view v;
	struct rvm_ckpt_region re;
	uint32_t pos = 0;
	size_t off = 0, o = 96, rest;
	uint64_t body;

	assert_int_equal(rvm_checkpoint_parse(in, len, NULL, &v), RVM_OK);
	memcpy(out, in, 96);
	out[8] = 1;
	while (rvm_ckpt_next_region(&v, &pos, &off, &re) == RVM_OK) {
		memcpy(out + o, re.image - RVM_CKPT_REGION_ENTRY, RVM_CKPT_REGION_ENTRY_V1);
		memcpy(out + o + RVM_CKPT_REGION_ENTRY_V1, re.image, re.image_len);
		o += RVM_CKPT_REGION_ENTRY_V1 + re.image_len;
	}
	rest = len - 32 - v.agents_off;
	memcpy(out + o, in + v.agents_off, rest);
	o += rest;
	body = o - 96;
	for (int i = 0; i < 8; i++)
		out[80 + i] = (uint8_t)(body >> (8 * i));
	rehash(out, o + 32);
	return o + 32;
}

/* Version 1 checkpoints still parse and restore: their decoded pages are hashed, as before. */
static void test_restore_version1(void **state)
{
	struct scene sc;
	struct kfix *k = scene_new(&sc);
	struct rvm_ckpt_info info;
	struct rvm_ckpt_view v;
	struct rvm_ckpt_region re;
	uint8_t d1[32], now[32], junk[256];
	static uint8_t b1[1u << 20], b[1u << 20];
	uint32_t pos = 0, n = 0;
	size_t off = 0, len1;

	(void)state;
	/* The CPU's SHA-256, so that version 1's two-at-a-time hashing runs where it can. */
	k->f->plat.sha256 = rvm_sha256_detect();
	take(k, &sc, &info);
	len1 = to_version1(ckbuf, info.len, b1);
	assert_true(len1 == info.len - 32 * info.regions);
	assert_int_equal(rvm_checkpoint_parse(b1, len1, NULL, &v), RVM_OK);
	assert_int_equal(v.version, 1);
	assert_int_equal(v.nregions, 3);
	while (rvm_ckpt_next_region(&v, &pos, &off, &re) == RVM_OK) {
		uint8_t d[32];

		assert_false(re.sealed);
		assert_int_equal(rvm_region_content_digest(&k->space, re.id, d), RVM_OK);
		assert_memory_equal(d, re.digest, 32);
		n++;
	}
	assert_int_equal(n, 3);
	digest(k, 1, d1);
	memset(junk, 0x5A, sizeof(junk));
	assert_int_equal(rvm_region_write(&k->space, 1, 7, sc.hot, 1000, junk, sizeof(junk), NULL),
			 RVM_OK);
	digest(k, 1, now);
	assert_memory_not_equal(now, d1, 32);
	assert_int_equal(rvm_checkpoint_restore(&k->ck, &v, 1, NULL), RVM_OK);
	digest(k, 1, now);
	assert_memory_equal(now, d1, 32);
	/* A damaged image under a valid trailer: its decoded pages miss their digest. */
	assert_int_equal(rvm_region_write(&k->space, 1, 7, sc.hot, 1000, junk, sizeof(junk), NULL),
			 RVM_OK);
	digest(k, 1, d1);
	pos = 0;
	off = 0;
	assert_int_equal(rvm_ckpt_next_region(&v, &pos, &off, &re), RVM_OK);
	memcpy(b, b1, len1);
	b[(size_t)(re.image - b1) + re.image_len - 5] ^= 0x20;
	rehash(b, len1);
	assert_int_equal(rvm_checkpoint_parse(b, len1, NULL, &v), RVM_OK);
	assert_int_equal(rvm_checkpoint_restore(&k->ck, &v, 1, NULL), RVM_E_CORRUPT);
	digest(k, 1, now);
	assert_memory_equal(now, d1, 32);
	assert_int_equal(rvm_region_check_invariants(&k->space), RVM_OK);
	kfix_free(k);
}

/* Digest: contents and identity count, tiers and mappings do not; agents count. */
static enum rvm_err two_agents(void *ctx, uint32_t partition, uint32_t index, uint32_t *agent,
			       uint8_t d[32])
{
	const uint8_t *salt = ctx;

	(void)partition;
	if (index >= 2)
		return RVM_E_NOTFOUND;
	*agent = 40 + index;
	memset(d, salt[index], 32);
	return RVM_OK;
}

static void test_digest(void **state)
{
	struct scene sc;
	struct kfix *k = scene_new(&sc);
	uint8_t a[32], b[32], salt[2] = {1, 2};
	uint64_t seq;
	const struct rvm_witness_record *w;

	(void)state;
	digest(k, 1, a);
	assert_int_equal(rvm_region_set_tier(&k->space, 1, sc.hot, RVM_TIER_COLD), RVM_OK);
	assert_int_equal(rvm_region_set_tier(&k->space, 1, sc.cold, RVM_TIER_HOT), RVM_OK);
	digest(k, 1, b);
	assert_memory_equal(a, b, 32);
	assert_int_equal(rvm_region_set_tier(&k->space, 1, sc.hot, RVM_TIER_HOT), RVM_OK);
	assert_int_equal(rvm_region_write(&k->space, 1, 3, sc.hot, 65535, salt, 1, NULL), RVM_OK);
	digest(k, 1, b);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(rvm_partition_digest(&k->space, 1, two_agents, salt, a), RVM_OK);
	assert_memory_not_equal(a, b, 32);
	salt[1] = 3;
	assert_int_equal(rvm_partition_digest_record(&k->space, 1, two_agents, salt, b, &seq),
			 RVM_OK);
	assert_memory_not_equal(a, b, 32);
	w = rvm_witness_get(&k->f->wlog, seq);
	assert_int_equal(w->action, RVM_ACT_STATE_DIGEST);
	assert_true(w->target == 1);
	assert_memory_equal(&w->arg0, b, 8); /* little-endian host */
	assert_memory_equal(&w->arg1, b + 8, 8);
	assert_int_equal(rvm_partition_digest(&k->space, RVM_MAX_PARTITIONS, NULL, NULL, a),
			 RVM_E_RANGE);
	kfix_free(k);
}

/* Writes: witnessed with the agent and a binding of the bytes; refusals named. */
static void test_region_write(void **state)
{
	struct kfix *k = kfix_new(2, NULL);
	rvm_region_id id, ro;
	uint8_t data[300];
	uint64_t seq;
	const struct rvm_witness_record *w;
	const struct rvm_region *r;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	assert_int_equal(rvm_region_create(&k->space, 0, 1, 8192, RVM_REGION_DATA, true, 1, &id),
			 RVM_OK);
	w = cap_fixture_last(k->f);
	assert_true(w->arg0 == (1u | (uint64_t)RVM_REGION_DATA << 32 | 1ull << 40));
	assert_int_equal(rvm_region_write(&k->space, 1, 42, id, 4000, data, sizeof(data), &seq),
			 RVM_OK);
	w = rvm_witness_get(&k->f->wlog, seq);
	assert_int_equal(w->action, RVM_ACT_REGION_WRITE);
	assert_int_equal(w->actor, 1);
	assert_true(w->target == id);
	assert_true(w->arg0 == (42ull << 32 | 4000));
	assert_true((w->arg1 & 0xFFFFFF) == sizeof(data));
	assert_true(w->arg1 == rvm_region_write_arg1(NULL, data, sizeof(data)));
	data[0] ^= 1;
	assert_true(w->arg1 != rvm_region_write_arg1(NULL, data, sizeof(data)));
	data[0] ^= 1;
	r = rvm_region_get(&k->space, id);
	assert_memory_equal((uint8_t *)(uintptr_t)r->base + 4000, data, sizeof(data));
	/* The journal hook got the bytes under the record's seq. */
	assert_int_equal(k->njournal, 1);
	assert_true(k->journal[0].id == seq && k->journal[0].len == sizeof(data));
	/* Refusals. */
	assert_int_equal(rvm_region_write(&k->space, 2, 1, id, 0, data, 1, NULL), RVM_E_PERM);
	assert_int_equal(rvm_region_write(&k->space, 1, 1, id, 8000, data, 193, NULL), RVM_E_RANGE);
	assert_int_equal(rvm_region_write(&k->space, 1, 1, id, UINT64_MAX, data, 1, NULL),
			 RVM_E_RANGE);
	assert_int_equal(rvm_region_write(&k->space, 1, 1, id, 0, data, 0, NULL), RVM_E_RANGE);
	assert_int_equal(cap_fixture_last(k->f)->action, RVM_ACT_GATE_DENIED);
	assert_true(cap_fixture_last(k->f)->arg0 == RVM_ACT_REGION_WRITE);
	assert_int_equal(rvm_region_create(&k->space, 0, 1, 4096, RVM_REGION_CODE, false, 1, &ro),
			 RVM_OK);
	assert_int_equal(rvm_region_write(&k->space, 1, 1, ro, 0, data, 1, NULL), RVM_E_POLICY);
	assert_int_equal(rvm_region_set_tier(&k->space, 1, id, RVM_TIER_DORMANT), RVM_OK);
	assert_int_equal(rvm_region_write(&k->space, 1, 1, id, 0, data, 1, NULL), RVM_E_STATE);
	assert_int_equal(rvm_region_write(&k->space, 1, 1, id, 0, NULL, 1, NULL), RVM_E_INVAL);
	assert_int_equal(k->njournal, 1);
	kfix_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_parse_roundtrip),
		cmocka_unit_test(test_take_refusals),
		cmocka_unit_test(test_restore_rolls_back),
		cmocka_unit_test(test_restore_rolls_back_edges),
		cmocka_unit_test(test_restore_refusals),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_restore_corrupt_image),
		cmocka_unit_test(test_regions_in_pairs),
		cmocka_unit_test(test_restore_checks_seals),
		cmocka_unit_test(test_restore_version1),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_region_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
