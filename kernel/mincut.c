/* kernel/mincut.c - Stoer-Wagner global min cut with Nagamochi-Ibaraki contractions, budgeted. */
#include <rvm/bytes.h>
#include <rvm/mincut.h>

/*
 * The algorithm. A phase builds a maximum-adjacency (MA) order of the current
 * contracted graph: start anywhere, then repeatedly add the vertex most tightly
 * connected to the ones already added (its "key"). For the last two vertices
 * s, t the cut around t is a minimum s-t cut (Stoer-Wagner), so s and t can be
 * merged once that cut has been offered. Nagamochi and Ibaraki showed more: for
 * every edge (v,u) scanned when v is added, the local connectivity of u and v
 * is at least u's key right after the scan. When that key reaches the best
 * cut found so far, no better cut separates u and v, so they merge too. On
 * RVM's graphs this ends most runs in a handful of phases instead of n-1.
 *
 * Every cut offered is the member set of one supernode, so the best cut is
 * always valid; the degree of each new supernode is offered as it is formed,
 * which covers Stoer-Wagner's cut-of-the-phase (the degree of t).
 *
 * Two representations of the contracted graph, chosen at run time:
 *  - dense: a k x k matrix with a fixed row stride; a phase is O(k^2) of
 *    straight array work and a merge is O(k) (row/column add, then the last
 *    vertex moves into the freed slot so vertices stay 0..k-1);
 *  - sparse: adjacency arrays and an indexed binary max-heap, O(m log k) per
 *    phase, then one O(m + k) rebuild for all the merges of the phase. Once
 *    the graph has shrunk or filled in, it moves to the matrix.
 */

/* n up to this runs on the matrix whatever the density. */
#define MC_DENSE_N 48u
/* Sparse graphs move to the matrix below this many supernodes... */
#define MC_SWITCH_K 48u
/* ...or when adjacency entries reach k*k / MC_DENSE_FILL. */
#define MC_DENSE_FILL 4u
#define MC_NONE	      0xffffu

struct mc {
	struct rvm_mincut_work *wk;
	struct rvm_mincut_result *out;
	uint64_t budget;
	uint32_t k;	 /* supernodes now */
	uint32_t stride; /* row stride of the matrix */
	uint32_t cur;	 /* live half of the double-buffered arrays */
	uint32_t npairs; /* merges recorded by the last phase */
	bool dense;
};

static void set_or(struct rvm_nodeset *d, const struct rvm_nodeset *s)
{
	for (uint32_t i = 0; i < RVM_MINCUT_SET_WORDS; i++)
		d->w[i] |= s->w[i];
}

static void set_single(struct rvm_nodeset *d, uint32_t i)
{
	for (uint32_t w = 0; w < RVM_MINCUT_SET_WORDS; w++)
		d->w[w] = 0;
	rvm_nodeset_add(d, i);
}

/* Keeps the cut if it beats the best so far. */
static void offer(struct mc *c, uint32_t value, const struct rvm_nodeset *side)
{
	if (value < c->out->value) {
		c->out->value = value;
		c->out->side = *side;
	}
}

static inline uint32_t uf_find(uint16_t *uf, uint32_t x)
{
	while (uf[x] != x) {
		uf[x] = uf[uf[x]];
		x = uf[x];
	}
	return x;
}

static void record_pair(struct mc *c, uint32_t a, uint32_t b)
{
	c->wk->pair_a[c->npairs] = (uint16_t)a;
	c->wk->pair_b[c->npairs] = (uint16_t)b;
	c->npairs++;
}

/* ---- dense representation ------------------------------------------------------------- */

static void dense_from_graph(struct mc *c, const struct rvm_mincut_graph *g)
{
	struct rvm_mincut_work *wk = c->wk;
	uint32_t n = g->n, s = (n + 7u) & ~7u, best = UINT32_MAX, arg = 0;

	c->stride = s;
	c->k = n;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t *restrict row = wk->mat + (size_t)i * s;
		const uint32_t *restrict src = g->w[i];
		uint32_t d = 0;

		for (uint32_t j = 0; j < n; j++) {
			row[j] = src[j];
			d += src[j];
		}
		wk->deg[c->cur][i] = d;
		set_single(&wk->members[c->cur][i], i);
		if (d < best) {
			best = d;
			arg = i;
		}
	}
	offer(c, best, &wk->members[c->cur][arg]);
	c->out->work += (uint64_t)n * n;
}

/* Merges slot b into slot a, then moves the last slot into b. */
static void dense_merge(struct mc *c, uint32_t a, uint32_t b)
{
	struct rvm_mincut_work *wk = c->wk;
	uint32_t k = c->k, last = k - 1, s = c->stride;
	uint32_t *m = wk->mat, *ra = m + (size_t)a * s, *rb = m + (size_t)b * s;
	uint32_t *deg = wk->deg[c->cur];
	struct rvm_nodeset *mem = wk->members[c->cur];
	uint32_t d = deg[a] + deg[b] - 2u * ra[b];

	for (uint32_t j = 0; j < k; j++)
		ra[j] += rb[j];
	ra[a] = 0;
	ra[b] = 0;
	for (uint32_t j = 0; j < k; j++)
		m[(size_t)j * s + a] = ra[j];
	deg[a] = d;
	set_or(&mem[a], &mem[b]);
	if (k > 2) /* with two left the merge is the whole graph, not a cut */
		offer(c, d, &mem[a]);
	if (b != last) {
		const uint32_t *rl = m + (size_t)last * s;
		uint32_t r = wk->root_of[last];

		for (uint32_t j = 0; j < k; j++)
			rb[j] = rl[j];
		rb[b] = 0;
		for (uint32_t j = 0; j < last; j++)
			m[(size_t)j * s + b] = rb[j];
		deg[b] = deg[last];
		mem[b] = mem[last];
		wk->root_of[b] = (uint16_t)r;
		wk->slot_of[r] = (uint16_t)b;
	}
	c->k = last;
	c->out->work += 3u * k;
}

/*
 * One MA ordering over the matrix. Candidates live in a compact array with
 * their keys beside them, so each step touches only vertices not yet added.
 */
static void dense_phase(struct mc *c)
{
	struct rvm_mincut_work *wk = c->wk;
	uint32_t k = c->k, s = c->stride, lam = c->out->value;
	uint16_t *cand = wk->cand;
	uint32_t *ck = wk->key;
	uint16_t *pa = wk->pair_a, *pb = wk->pair_b;
	uint32_t nc = k, bp = 0, vs = 0, vt = 0, np = 0;

	/* Start from the heaviest vertex: its neighbours' keys rise fastest (fewer phases). */
	for (uint32_t p = 0; p < k; p++) {
		cand[p] = (uint16_t)p;
		ck[p] = 0;
		if (wk->deg[c->cur][p] > wk->deg[c->cur][bp])
			bp = p;
	}
	for (;;) {
		uint32_t v = cand[bp], mx = 0;
		const uint32_t *row;

		nc--;
		cand[bp] = cand[nc];
		ck[bp] = ck[nc];
		vs = vt;
		vt = v;
		if (nc == 0)
			break;
		row = wk->mat + (size_t)v * s;
		bp = 0;
		for (uint32_t p = 0; p < nc; p++) {
			uint32_t u = cand[p], w = row[u], kk = ck[p] + w;

			ck[p] = kk;
			if (kk >= lam && w != 0) {
				pa[np] = (uint16_t)v;
				pb[np++] = (uint16_t)u;
			}
			if (kk > mx) {
				mx = kk;
				bp = p;
			}
		}
	}
	pa[np] = (uint16_t)vs;
	pb[np++] = (uint16_t)vt;
	c->npairs = np;
	c->out->work += (uint64_t)k * (k + 1) / 2;
}

/*
 * Labels the union-find classes of the recorded pairs 0..nk-1 in order of
 * their smallest member, so every class's label is <= each of its members;
 * returns nk and the number of merges (k - nk).
 */
static uint32_t label_classes(struct mc *c)
{
	struct rvm_mincut_work *wk = c->wk;
	uint32_t k = c->k, nk = 0;

	for (uint32_t i = 0; i < k; i++)
		wk->uf[i] = (uint16_t)i;
	for (uint32_t p = 0; p < c->npairs; p++) {
		uint32_t rx = uf_find(wk->uf, wk->pair_a[p]), ry = uf_find(wk->uf, wk->pair_b[p]);

		if (rx != ry)
			wk->uf[ry] = (uint16_t)rx;
	}
	for (uint32_t i = 0; i < k; i++)
		wk->stamp[i] = MC_NONE;
	for (uint32_t i = 0; i < k; i++) {
		uint32_t r = uf_find(wk->uf, i);

		if (wk->stamp[r] == MC_NONE)
			wk->stamp[r] = (uint16_t)nk++;
		wk->label[i] = wk->stamp[r];
	}
	return nk;
}

/* Groups vertices by label (counting sort): group l is order[cursor[l]..cursor[l+1]). */
static void group_by_label(struct mc *c, uint32_t nk)
{
	struct rvm_mincut_work *wk = c->wk;
	uint32_t k = c->k;

	for (uint32_t l = 0; l <= nk; l++)
		wk->cursor[l] = 0;
	for (uint32_t i = 0; i < k; i++)
		wk->cursor[wk->label[i] + 1u]++;
	for (uint32_t l = 0; l < nk; l++)
		wk->cursor[l + 1] += wk->cursor[l];
	for (uint32_t i = 0; i < k; i++)
		wk->order[wk->cursor[wk->label[i]]++] = (uint16_t)i;
	for (uint32_t l = nk; l > 0; l--)
		wk->cursor[l] = wk->cursor[l - 1];
	wk->cursor[0] = 0;
}

/*
 * Many merges at once: rebuilds the matrix in place. Row l is written only
 * after every old row it replaces has been read: old row l belongs to a class
 * whose label is <= l, and classes are built in label order.
 */
static void dense_rebuild(struct mc *c, uint32_t nk)
{
	struct rvm_mincut_work *wk = c->wk;
	uint32_t k = c->k, s = c->stride;
	uint32_t *acc = wk->key, *deg = wk->deg[c->cur];
	struct rvm_nodeset *mem = wk->members[c->cur];

	group_by_label(c, nk);
	for (uint32_t l = 0; l < nk; l++) {
		struct rvm_nodeset set = {{0}};
		uint32_t d = 0, *row = wk->mat + (size_t)l * s;
		uint32_t g0 = wk->cursor[l], g1 = wk->cursor[l + 1];

		/* Sum the class's rows (contiguous adds), then fold columns class by class. */
		for (uint32_t j = 0; j < k; j++)
			acc[j] = 0;
		for (uint32_t gi = g0; gi < g1; gi++) {
			uint32_t i = wk->order[gi];
			const uint32_t *old = wk->mat + (size_t)i * s;

			for (uint32_t j = 0; j < k; j++)
				acc[j] += old[j];
			set_or(&set, &mem[i]);
		}
		for (uint32_t m = 0, gi = 0; m < nk; m++) {
			uint32_t sum = 0;

			for (; gi < wk->cursor[m + 1]; gi++)
				sum += acc[wk->order[gi]];
			row[m] = m == l ? 0 : sum;
			d += row[m];
		}
		deg[l] = d;
		mem[l] = set;
		if (g1 - g0 > 1 && nk > 1)
			offer(c, d, &set);
	}
	c->out->work += (uint64_t)k * k + (uint64_t)nk * nk;
	c->k = nk;
}

static void dense_apply_pairs(struct mc *c)
{
	struct rvm_mincut_work *wk = c->wk;
	uint32_t k = c->k, nk = label_classes(c);

	if (nk == 1) { /* everything merged: no cut is left to find */
		c->k = 1;
		return;
	}
	/* A merge costs about 4k; a rebuild about 2k^2. */
	if (2u * (k - nk) >= k) {
		if (c->out->work + 2u * (uint64_t)k * k > c->budget) {
			c->out->exhausted = true;
			return;
		}
		dense_rebuild(c, nk);
		return;
	}
	for (uint32_t i = 0; i < k; i++) {
		wk->uf[i] = (uint16_t)i;
		wk->slot_of[i] = (uint16_t)i;
		wk->root_of[i] = (uint16_t)i;
	}
	for (uint32_t p = 0; p < c->npairs && c->k > 1; p++) {
		uint32_t rx = uf_find(wk->uf, wk->pair_a[p]), ry = uf_find(wk->uf, wk->pair_b[p]);

		if (rx == ry)
			continue;
		/* The phase's own cost was checked; the merges are paid one by one. */
		if (c->out->work + 3u * c->k > c->budget) {
			c->out->exhausted = true;
			return;
		}
		wk->uf[ry] = (uint16_t)rx;
		dense_merge(c, wk->slot_of[rx], wk->slot_of[ry]);
	}
}

/* ---- sparse representation ------------------------------------------------------------ */

/* Bits of word wd that stand for nodes below n. */
static uint64_t word_mask(uint32_t n, uint32_t wd)
{
	if (n >= (wd + 1u) * 64u)
		return UINT64_MAX;
	if (n <= wd * 64u)
		return 0;
	return ((uint64_t)1 << (n - wd * 64u)) - 1u;
}

static void sparse_from_graph(struct mc *c, const struct rvm_mincut_graph *g)
{
	struct rvm_mincut_work *wk = c->wk;
	uint32_t *off = wk->adj_off[c->cur], *aw = wk->adj_w[c->cur];
	uint16_t *av = wk->adj_v[c->cur];
	uint32_t pos = 0, n = g->n;

	c->k = n;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t d = 0;

		off[i] = pos;
		for (uint32_t wd = 0; wd < RVM_MINCUT_SET_WORDS; wd++) {
			uint64_t x = g->nz[i].w[wd] & word_mask(n, wd);

			/* Masked to columns < n and off the diagonal: a corrupt bitmap
			 * cannot index past the arrays. */
			if (wd == (i >> 6))
				x &= ~((uint64_t)1 << (i & 63u));
			for (; x; x &= x - 1) {
				uint32_t j = wd * 64u + rvm_ctz64(x);

				av[pos] = (uint16_t)j;
				aw[pos] = g->w[i][j];
				d += aw[pos];
				pos++;
			}
		}
		wk->deg[c->cur][i] = d;
		set_single(&wk->members[c->cur][i], i);
		offer(c, d, &wk->members[c->cur][i]);
	}
	off[n] = pos;
	c->out->work += (uint64_t)n * RVM_MINCUT_SET_WORDS + pos;
}

static void heap_up(struct rvm_mincut_work *wk, uint32_t i)
{
	uint16_t x = wk->heap[i];
	uint32_t kx = wk->key[x];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		uint16_t y = wk->heap[p];

		if (wk->key[y] >= kx)
			break;
		wk->heap[i] = y;
		wk->hpos[y] = (uint16_t)i;
		i = p;
	}
	wk->heap[i] = x;
	wk->hpos[x] = (uint16_t)i;
}

static void heap_down(struct rvm_mincut_work *wk, uint32_t i, uint32_t hn)
{
	uint16_t x = wk->heap[i];
	uint32_t kx = wk->key[x];

	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, big;

		if (l >= hn)
			break;
		big = (r < hn && wk->key[wk->heap[r]] > wk->key[wk->heap[l]]) ? r : l;
		if (wk->key[wk->heap[big]] <= kx)
			break;
		wk->heap[i] = wk->heap[big];
		wk->hpos[wk->heap[i]] = (uint16_t)i;
		i = big;
	}
	wk->heap[i] = x;
	wk->hpos[x] = (uint16_t)i;
}

/* One MA ordering over the adjacency arrays with an indexed max-heap of keys. */
static void sparse_phase(struct mc *c)
{
	struct rvm_mincut_work *wk = c->wk;
	const uint32_t *off = wk->adj_off[c->cur], *aw = wk->adj_w[c->cur];
	const uint16_t *av = wk->adj_v[c->cur];
	uint32_t k = c->k, hn = k, lam = c->out->value, vs = 0, vt = 0;

	for (uint32_t i = 0; i < k; i++) {
		wk->key[i] = 0;
		wk->heap[i] = (uint16_t)i; /* all keys equal: already a heap */
		wk->hpos[i] = (uint16_t)i;
	}
	c->npairs = 0;
	for (;;) {
		uint32_t v = wk->heap[0];

		hn--;
		if (hn > 0) {
			wk->heap[0] = wk->heap[hn];
			heap_down(wk, 0, hn);
		}
		wk->hpos[v] = MC_NONE;
		vs = vt;
		vt = v;
		if (hn == 0)
			break;
		for (uint32_t e = off[v]; e < off[v + 1]; e++) {
			uint32_t u = av[e], kk;

			if (wk->hpos[u] == MC_NONE)
				continue;
			kk = wk->key[u] + aw[e];
			wk->key[u] = kk;
			heap_up(wk, wk->hpos[u]);
			if (kk >= lam)
				record_pair(c, v, u);
		}
	}
	record_pair(c, vs, vt);
	c->out->work += off[k] + 8u * k;
}

/* Merges every recorded pair at once: relabels supernodes and rebuilds the arrays. */
static void sparse_apply_pairs(struct mc *c)
{
	struct rvm_mincut_work *wk = c->wk;
	uint32_t k = c->k, pos = 0, cur = c->cur, nxt = cur ^ 1u;
	const uint32_t *off = wk->adj_off[cur], *aw = wk->adj_w[cur];
	const uint16_t *av = wk->adj_v[cur];
	uint32_t *noff = wk->adj_off[nxt], *naw = wk->adj_w[nxt];
	uint16_t *nav = wk->adj_v[nxt];
	const uint16_t *label = wk->label;
	uint32_t nk = label_classes(c);

	if (nk == 1) { /* everything merged: no cut is left to find */
		c->k = 1;
		return;
	}
	group_by_label(c, nk);
	for (uint32_t l = 0; l < nk; l++)
		wk->stamp[l] = 0;
	for (uint32_t l = 0; l < nk; l++) {
		struct rvm_nodeset *nm = &wk->members[nxt][l];
		uint32_t d = 0;

		noff[l] = pos;
		for (uint32_t w = 0; w < RVM_MINCUT_SET_WORDS; w++)
			nm->w[w] = 0;
		for (uint32_t gi = wk->cursor[l]; gi < wk->cursor[l + 1]; gi++) {
			uint32_t i = wk->order[gi];

			set_or(nm, &wk->members[cur][i]);
			for (uint32_t e = off[i]; e < off[i + 1]; e++) {
				uint32_t lu = label[av[e]];

				if (lu == l)
					continue;
				d += aw[e];
				if (wk->stamp[lu] == l + 1u) {
					naw[wk->mark[lu]] += aw[e];
				} else {
					wk->stamp[lu] = (uint16_t)(l + 1u);
					wk->mark[lu] = pos;
					nav[pos] = (uint16_t)lu;
					naw[pos] = aw[e];
					pos++;
				}
			}
		}
		wk->deg[nxt][l] = d;
		if (wk->cursor[l + 1] - wk->cursor[l] > 1 && nk > 1)
			offer(c, d, nm);
	}
	noff[nk] = pos;
	c->out->work += off[k] + 4u * k;
	c->cur = nxt;
	c->k = nk;
}

/* Moves the sparse graph onto the matrix (same vertex numbers, degrees and members). */
static void sparse_to_dense(struct mc *c)
{
	struct rvm_mincut_work *wk = c->wk;
	const uint32_t *off = wk->adj_off[c->cur], *aw = wk->adj_w[c->cur];
	const uint16_t *av = wk->adj_v[c->cur];
	uint32_t k = c->k, s = (k + 7u) & ~7u;

	c->stride = s;
	for (uint32_t i = 0; i < k; i++) {
		uint32_t *row = wk->mat + (size_t)i * s;

		for (uint32_t j = 0; j < k; j++)
			row[j] = 0;
		for (uint32_t e = off[i]; e < off[i + 1]; e++)
			row[av[e]] = aw[e];
	}
	c->out->work += (uint64_t)k * k + off[k];
	c->dense = true;
}

/* ---- driver -------------------------------------------------------------------------- */

enum rvm_err rvm_mincut_solve(const struct rvm_mincut_graph *g, struct rvm_mincut_work *wk,
			      uint64_t budget, struct rvm_mincut_result *out)
{
	struct mc c;
	uint32_t n;

	if (!g || !wk || !out || g->n < 2 || g->n > RVM_MINCUT_MAX_NODES)
		return RVM_E_INVAL;
	if (g->total > RVM_MINCUT_MAX_TOTAL)
		return RVM_E_CORRUPT;
	n = g->n;
	out->value = UINT32_MAX;
	for (uint32_t w = 0; w < RVM_MINCUT_SET_WORDS; w++)
		out->side.w[w] = 0;
	out->work = 0;
	out->exhausted = false;
	c.wk = wk;
	c.out = out;
	c.budget = budget;
	c.cur = 0;
	c.npairs = 0;
	c.stride = 0;
	c.k = 0;
	c.dense = n <= MC_DENSE_N || (uint64_t)g->edges * 2u * MC_DENSE_FILL >= (uint64_t)n * n;
	if (c.dense) {
		out->method = RVM_MINCUT_DENSE;
		dense_from_graph(&c, g);
	} else {
		out->method = RVM_MINCUT_SPARSE;
		sparse_from_graph(&c, g);
	}
	while (c.k > 1 && out->value > 0) {
		uint64_t cost;

		if (!c.dense) {
			uint32_t entries = wk->adj_off[c.cur][c.k];

			if (c.k <= MC_SWITCH_K ||
			    (uint64_t)entries * MC_DENSE_FILL >= (uint64_t)c.k * c.k) {
				sparse_to_dense(&c);
				continue;
			}
			cost = 2u * (uint64_t)entries + 12u * c.k;
		} else {
			cost = (uint64_t)c.k * (c.k + 1) / 2 + 6u * c.k;
		}
		if (out->work + cost > budget) {
			out->exhausted = true;
			break;
		}
		if (c.dense) {
			dense_phase(&c);
			dense_apply_pairs(&c);
			if (out->exhausted)
				break;
		} else {
			sparse_phase(&c);
			sparse_apply_pairs(&c);
		}
	}
	return RVM_OK;
}
