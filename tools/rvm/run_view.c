/* tools/rvm/run_view.c - what `rvm run` shows: live view, DIR/status.json, exit summary, --graph. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rvm/kernel_recover.h>

#include "logfile.h"
#include "run.h"

#if defined(RVM_HAS_GPU)
#include <rvm/gpu.h>
#endif

/* Partition p's GPU budget into v, when it has a context (lock held). */
static void gpu_take(const struct rvm_world *w, uint32_t p, struct run_part_view *v,
		     struct run_snapshot *s)
{
#if defined(RVM_HAS_GPU)
	const struct rvm_gpu_context *cx = rvm_gpu_context_of(w->gpu, p);

	if (!cx)
		return;
	v->gpu = true;
	for (unsigned d = 0; d < RUN_GPU_DIMS; d++) {
		v->gpu_used[d] = cx->budget.used[d];
		v->gpu_limit[d] = cx->budget.limit[d];
	}
	s->gpu_backend = w->gpu->devices[cx->device].be->name;
	s->gpu_epoch = w->gpu->epoch;
#else
	(void)w, (void)p, (void)v, (void)s;
#endif
}

void run_snapshot_take(const struct rvm_kernel *k, double t, double msgs_per_s, bool running,
		       struct run_snapshot *s)
{
	const struct rvm_world *w = k->w;

	memset(s, 0, sizeof(*s));
	s->t = t;
	s->running = running;
	s->msgs_per_s = msgs_per_s;
	for (uint32_t p = RVM_PART_FIRST; p < RVM_KPARTS; p++) {
		struct run_part_view *v;

		if (w->parts.p[p].state != RVM_PART_RUNNING)
			continue;
		v = &s->parts[s->nparts++];
		v->slot = p;
		v->cpu = w->sched.cpu_of[p];
		v->agents = w->parts.p[p].agents;
		v->migrating = w->parts.p[p].migrating;
		v->coherence = rvm_coh_coherence(&w->coh, p);
		v->pressure = rvm_coh_pressure(&w->coh, p);
		for (uint32_t i = 0; i < w->nagents && v->nmembers < 16; i++)
			if (w->agents[i].state != RVM_AGENT_FREE && w->agents[i].part == p)
				v->members[v->nmembers++] = i;
		gpu_take(w, p, v, s);
	}
	s->witness_records = k->witness.next_seq;
	s->journal_entries = w->journal.entries;
	s->messages = w->messages;
	s->bytes = w->bytes;
	s->splits = w->splits;
	s->merges = w->merges;
	s->migrations = w->migrations;
	s->recoveries = w->recoveries;
	s->epochs = w->epochs;
	s->degraded = w->coh.degraded;
	for (uint32_t i = 0; i < w->nagents; i++)
		s->traps += w->agents[i].traps;
	s->nrecent = w->nrecent < RVM_RECENT_EVENTS ? w->nrecent : RVM_RECENT_EVENTS;
	for (uint32_t i = 0; i < s->nrecent; i++)
		s->recent[i] = w->recent[(w->nrecent - 1 - i) % RVM_RECENT_EVENTS];
}

static const char *event_name(uint16_t action)
{
	switch (action) {
	case RVM_ACT_PARTITION_SPLIT:
		return "split";
	case RVM_ACT_PARTITION_MERGE:
		return "merge";
	case RVM_ACT_PARTITION_MIGRATE:
		return "migrate";
	case RVM_ACT_SCHED_PLACE:
		return "place";
	case RVM_ACT_RECOVER_F1:
		return "restart";
	case RVM_ACT_RECOVER_F2:
	case RVM_ACT_RECOVER_F3:
		return "rollback";
	default:
		return "event";
	}
}

static void event_text(const struct rvm_kernel *k, const struct rvm_reshape_event *e, char *b,
		       size_t n)
{
	const struct rvm_world *w = k->w;

	switch (e->action) {
	case RVM_ACT_PARTITION_SPLIT:
		snprintf(b, n, "split P%u -> P%u (%u agent%s)", e->a, e->b, e->n, e->n == 1 ? "" : "s");
		break;
	case RVM_ACT_PARTITION_MERGE:
		snprintf(b, n, "merge P%u into P%u (%u agent%s)", e->a, e->b, e->n,
			 e->n == 1 ? "" : "s");
		break;
	case RVM_ACT_PARTITION_MIGRATE:
		snprintf(b, n, "migrate P%u cpu%u -> cpu%u", e->n, e->a, e->b);
		break;
	case RVM_ACT_SCHED_PLACE:
		snprintf(b, n, "placement moved %u partition%s", e->n, e->n == 1 ? "" : "s");
		break;
	case RVM_ACT_RECOVER_F1:
		snprintf(b, n, "F1 restart %s (#%u)", e->a < RVM_AGENT_MAX ? w->agents[e->a].name : "?",
			 e->b);
		break;
	case RVM_ACT_RECOVER_F2:
	case RVM_ACT_RECOVER_F3:
		snprintf(b, n, "F%u rollback for %s (#%u)", e->action == RVM_ACT_RECOVER_F2 ? 2 : 3,
			 e->a < RVM_AGENT_MAX ? w->agents[e->a].name : "?", e->b);
		break;
	default:
		snprintf(b, n, "event %u", e->action);
	}
}

/* "used/limit" in units of scale, used with one decimal unless scale is 1; a limit of 2^53 or
 * more reads "-" (unlimited). */
static void frac(char *b, size_t n, uint64_t used, uint64_t limit, double scale)
{
	int dec = scale > 1 ? 1 : 0;

	if (limit >= (1ull << 53))
		snprintf(b, n, "%.*f/-", dec, (double)used / scale);
	else
		snprintf(b, n, "%.*f/%.0f", dec, (double)used / scale, (double)limit / scale);
}

/* The GPU budget columns of the live view: one line per partition with a context. */
static void gpu_live(const struct run_snapshot *s)
{
	bool head = false;

	for (uint32_t i = 0; i < s->nparts; i++) {
		const struct run_part_view *v = &s->parts[i];
		char c[40], m[40], t[40], l[40];

		if (!v->gpu)
			continue;
		if (!head)
			printf("\n  gpu budget (%s backend, epoch %" PRIu64 "): used/limit\n"
			       "  part compute ms    memory KiB   transfer KiB   launches\n",
			       s->gpu_backend, s->gpu_epoch);
		head = true;
		frac(c, sizeof(c), v->gpu_used[0], v->gpu_limit[0], 1e6);
		frac(m, sizeof(m), v->gpu_used[1], v->gpu_limit[1], 1024);
		frac(t, sizeof(t), v->gpu_used[2], v->gpu_limit[2], 1024);
		frac(l, sizeof(l), v->gpu_used[3], v->gpu_limit[3], 1);
		printf("  P%-3u %-13s %-12s %-14s %s\n", v->slot, c, m, t, l);
	}
}

void run_view_live(const struct rvm_kernel *k, const struct run_snapshot *s, bool tty)
{
	const struct rvm_world *w = k->w;
	char ev[96];

	if (!tty) {
		/* Plain lines, about once a second, for logs and pipes. */
		if ((uint64_t)(s->t * 4) % 4 != 0 && s->running)
			return;
		printf("t=%5.1fs partitions=%u msgs/s=%.0f witness=%" PRIu64 " splits=%" PRIu64
		       " merges=%" PRIu64 " migrations=%" PRIu64 " restarts=%" PRIu64,
		       s->t, s->nparts, s->msgs_per_s, s->witness_records, s->splits, s->merges,
		       s->migrations, s->recoveries);
		for (uint32_t i = 0; i < s->nparts; i++)
			if (s->parts[i].gpu)
				printf(" gpu.P%u=%" PRIu64 "/%" PRIu64 "launches,%" PRIu64 "ns",
				       s->parts[i].slot, s->parts[i].gpu_used[3],
				       s->parts[i].gpu_limit[3], s->parts[i].gpu_used[0]);
		printf("\n");
		fflush(stdout);
		return;
	}
	printf("\033[H\033[2J");
	printf("RVM  t=%.1fs  %u vCPUs  %u partitions  %.0f msgs/s  witness %" PRIu64
	       " records  journal %" PRIu64 "%s\n\n",
	       s->t, w->ncpus, s->nparts, s->msgs_per_s, s->witness_records, s->journal_entries,
	       s->degraded ? "  [coherence degraded: static placement]" : "");
	printf("  part cpu  coher  press  agents\n");
	for (uint32_t i = 0; i < s->nparts && i < 24; i++) {
		const struct run_part_view *v = &s->parts[i];
		char cpu[12];

		if (v->cpu == RVM_SCHED_NONE)
			snprintf(cpu, sizeof(cpu), "-");
		else
			snprintf(cpu, sizeof(cpu), "%u", v->cpu);
		printf("  P%-3u %-3s %5.2f  %5.2f  ", v->slot, cpu, v->coherence / 10000.0,
		       v->pressure / 10000.0);
		for (uint32_t j = 0; j < v->nmembers; j++) {
			const struct rvm_agent *a = &w->agents[v->members[j]];

			printf("%s%s%s", j ? " " : "", a->name,
			       a->quarantined ? "(q)" : a->state == RVM_AGENT_STOPPED ? "(x)" : "");
		}
		printf("%s%s\n", v->agents > v->nmembers ? " ..." : "", v->migrating ? "  <migrating>" : "");
	}
	gpu_live(s);
	printf("\n  splits %" PRIu64 "  merges %" PRIu64 "  migrations %" PRIu64 "  restarts %" PRIu64
	       "\n  recent:",
	       s->splits, s->merges, s->migrations, s->recoveries);
	for (uint32_t i = 0; i < s->nrecent && i < 5; i++) {
		event_text(k, &s->recent[i], ev, sizeof(ev));
		printf("%s %.1fs %s\n", i ? "         " : "", s->recent[i].time_ns / 1e9, ev);
	}
	if (!s->nrecent)
		printf(" none yet\n");
	fflush(stdout);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void snapshot_json(FILE *f, const struct rvm_kernel *k, const struct run_snapshot *s)
{
	const struct rvm_world *w = k->w;
	char ev[96];

	fprintf(f, "\"running\": %s, \"t\": %.3f, \"cpus\": %u, \"witness_records\": %" PRIu64
		   ", \"journal_entries\": %" PRIu64 ", \"messages\": %" PRIu64 ", \"bytes\": %" PRIu64
		   ", \"msgs_per_s\": %.1f, \"splits\": %" PRIu64 ", \"merges\": %" PRIu64
		   ", \"migrations\": %" PRIu64 ", \"recoveries\": %" PRIu64 ", \"epochs\": %" PRIu64
		   ", \"degraded\": %s, \"gpu_backend\": %s%s%s, \"gpu_epoch\": %" PRIu64
		   ",\n  \"partitions\": [",
		s->running ? "true" : "false", s->t, w->ncpus, s->witness_records, s->journal_entries,
		s->messages, s->bytes, s->msgs_per_s, s->splits, s->merges, s->migrations,
		s->recoveries, s->epochs, s->degraded ? "true" : "false", s->gpu_backend ? "\"" : "",
		s->gpu_backend ? s->gpu_backend : "null", s->gpu_backend ? "\"" : "", s->gpu_epoch);
	for (uint32_t i = 0; i < s->nparts; i++) {
		const struct run_part_view *v = &s->parts[i];

		fprintf(f, "%s\n    {\"slot\": %u, \"cpu\": %d, \"coherence\": %.4f, \"pressure\": %.4f, "
			   "\"migrating\": %s, \"agents\": [",
			i ? "," : "", v->slot, v->cpu == RVM_SCHED_NONE ? -1 : (int)v->cpu,
			v->coherence / 10000.0, v->pressure / 10000.0, v->migrating ? "true" : "false");
		for (uint32_t j = 0; j < v->nmembers; j++) {
			fputs(j ? ", " : "", f);
			json_str(f, w->agents[v->members[j]].name);
		}
		fprintf(f, "]");
		if (v->gpu) {
			static const char *const dims[RUN_GPU_DIMS] = {"compute_ns", "memory_bytes",
								       "transfer_bytes", "launches"};

			fprintf(f, ", \"gpu\": {");
			for (unsigned d = 0; d < RUN_GPU_DIMS; d++)
				fprintf(f, "%s\"%s\": {\"used\": %" PRIu64 ", \"limit\": %" PRIu64 "}",
					d ? ", " : "", dims[d], v->gpu_used[d], v->gpu_limit[d]);
			fprintf(f, "}");
		}
		fprintf(f, "}");
	}
	fprintf(f, "],\n  \"recent\": [");
	for (uint32_t i = 0; i < s->nrecent; i++) {
		event_text(k, &s->recent[i], ev, sizeof(ev));
		fprintf(f, "%s\n    {\"t\": %.3f, \"kind\": \"%s\", \"text\": ", i ? "," : "",
			s->recent[i].time_ns / 1e9, event_name(s->recent[i].action));
		json_str(f, ev);
		fputc('}', f);
	}
	fprintf(f, "]");
}

int run_status_write(const char *dir, const struct rvm_kernel *k, const struct run_snapshot *s)
{
	char tmp[4200], dst[4200];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s/status.json.tmp", dir);
	snprintf(dst, sizeof(dst), "%s/status.json", dir);
	if (!(f = fopen(tmp, "w")))
		return -1;
	fputs("{", f);
	snapshot_json(f, k, s);
	fputs("}\n", f);
	if (fclose(f) != 0 || rename(tmp, dst) != 0)
		return -1;
	return 0;
}

static const char *state_name(uint8_t st)
{
	return st == RVM_AGENT_READY	? "running"
	       : st == RVM_AGENT_EXITED ? "exited"
	       : st == RVM_AGENT_STOPPED ? "stopped"
					 : "free";
}

/* DC-14 recovery in the summary: classes that resolved faults, agents re-run against their
 * input tapes, messages F3 skipped (received and counted, never handed to the agent). */
static void recovery_json(FILE *f, const struct rvm_kernel_recovery *r)
{
	static const struct rvm_kernel_recovery none;

	if (!r)
		r = &none;
	fprintf(f, ", \"messages_skipped\": %" PRIu64 ",\n  \"recovery\": {\"f1\": %" PRIu64
		   ", \"f2\": %" PRIu64 ", \"f3\": %" PRIu64 ", \"f4\": %" PRIu64
		   ", \"rollbacks\": %" PRIu64 ", \"replays\": %" PRIu64 ", \"replay_failed\": %" PRIu64
		   ", \"inputs_replayed\": %" PRIu64 ", \"messages_replayed\": %" PRIu64
		   ", \"forced_checkpoints\": %" PRIu64 ", \"tapes_lost\": %" PRIu64
		   ", \"fallbacks\": %" PRIu64 ", \"checkpoints\": %" PRIu64 "}",
		r->skipped, r->rec.handled[RVM_F1], r->rec.handled[RVM_F2], r->rec.handled[RVM_F3],
		r->rec.handled[RVM_F4], r->rollbacks, r->replays, r->replay_failed,
		r->inputs_replayed, r->msgs_replayed, r->forced, r->tapes_lost, r->fallbacks,
		r->checkpoints);
}

void run_summary(FILE *f, const struct rvm_kernel *k, const struct run_manifest *m,
		 const struct run_snapshot *s, bool json)
{
	const struct rvm_kernel_recovery *rec = k->w->rec;
	const struct rvm_world *w = k->w;
	uint64_t sent = 0, received = 0, queued = 0, refused = 0;
	char attest[65];

	for (uint32_t i = 0; i < w->nchans; i++) {
		const struct rvm_chan *c = &w->chans[i];

		if (!c->live)
			continue;
		sent += c->sent;
		received += c->received;
		queued += c->head - c->tail;
		refused += c->refused;
	}
	rvm_tool_hex(k->attest, 32, attest);
	if (!json) {
		fprintf(f, "\nrvm run: %s: %.1f s on %u vCPUs, %u agents, %u partitions at the end\n",
			m->name[0] ? m->name : "(no manifest)", s->t, w->ncpus, w->nagents, s->nparts);
		fprintf(f, "  messages     %" PRIu64 " sent, %" PRIu64 " received, %" PRIu64
			   " queued, %" PRIu64 " lost (%.0f msgs/s)\n",
			sent, received, queued, sent - received - queued, s->msgs_per_s);
		fprintf(f, "  reshaping    %" PRIu64 " splits, %" PRIu64 " merges, %" PRIu64
			   " migrations over %" PRIu64 " epochs\n",
			s->splits, s->merges, s->migrations, s->epochs);
		fprintf(f, "  faults       %" PRIu64 " traps, %" PRIu64 " recovered", s->traps,
			s->recoveries);
		if (rec)
			fprintf(f, " (F1 %" PRIu64 ", F2 %" PRIu64 ", F3 %" PRIu64 "), %" PRIu64
				   " agents re-run from snapshots, %" PRIu64 " messages skipped",
				rec->rec.handled[RVM_F1], rec->rec.handled[RVM_F2],
				rec->rec.handled[RVM_F3], rec->replays, rec->skipped);
		fputc('\n', f);
		fprintf(f, "  witness      %" PRIu64 " records, journal %" PRIu64 " entries\n",
			s->witness_records, s->journal_entries);
		fprintf(f, "  boot attest  %.16s (7 phases measured)\n", attest);
		return;
	}
	fprintf(f, "{\"manifest\": ");
	json_str(f, m->name);
	fprintf(f, ", \"seconds\": %.3f, \"agents_total\": %u, \"messages_sent\": %" PRIu64
		   ", \"messages_received\": %" PRIu64 ", \"messages_queued\": %" PRIu64
		   ", \"messages_lost\": %" PRIu64 ", \"sends_refused\": %" PRIu64
		   ", \"kernel_ipc_mismatches\": %" PRIu64 ", \"traps\": %" PRIu64
		   ", \"boot_attestation\": \"%s\", \"boot_phases\": %u,\n  \"expect\": {\"splits\": %u, "
		   "\"merges\": %u, \"recoveries\": %u},\n  ",
		s->t, w->nagents, sent, received, queued, sent - received - queued, refused,
		w->sig_refused, s->traps, attest, k->phases_done, m->expect_splits, m->expect_merges,
		m->expect_recoveries);
	snapshot_json(f, k, s);
	recovery_json(f, rec);
	fprintf(f, ",\n  \"agents\": [");
	for (uint32_t i = 0; i < w->nagents; i++) {
		const struct rvm_agent *a = &w->agents[i];

		if (a->state == RVM_AGENT_FREE)
			continue;
		fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
		json_str(f, a->name);
		fprintf(f, ", \"module\": ");
		json_str(f, w->modules[a->module].name);
		fprintf(f, ", \"partition\": %u, \"state\": \"%s\", \"trust\": %u, \"quarantined\": %s, "
			   "\"sent\": %" PRIu64 ", \"received\": %" PRIu64 ", \"fuel\": %" PRIu64
			   ", \"traps\": %" PRIu64 ", \"restarts\": %" PRIu64 ", \"last_log\": ",
			a->part, state_name(a->state), a->trust, a->quarantined ? "true" : "false",
			a->sent, a->received, a->fuel, a->traps, a->restarts);
		json_str(f, a->last_log);
		fputc('}', f);
	}
	fprintf(f, "]}\n");
}

int run_graph_write(const char *path, const struct rvm_kernel *k)
{
	const struct rvm_world *w = k->w;
	size_t n = strlen(path);
	bool svg = n > 4 && !strcmp(path + n - 4, ".svg");
	char dot[4200];
	FILE *f;
	int rc = 0;

	snprintf(dot, sizeof(dot), "%s%s", path, svg ? ".dot" : "");
	if (!(f = fopen(dot, "w")))
		return -1;
	fprintf(f, "digraph rvm {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n");
	for (uint32_t p = RVM_PART_FIRST; p < RVM_KPARTS; p++) {
		if (w->parts.p[p].state != RVM_PART_RUNNING)
			continue;
		fprintf(f, "  subgraph cluster_P%u {\n    label=\"P%u  cpu %u  coherence %.2f\";\n", p, p,
			w->sched.cpu_of[p], rvm_coh_coherence(&w->coh, p) / 10000.0);
		for (uint32_t i = 0; i < w->nagents; i++)
			if (w->agents[i].state != RVM_AGENT_FREE && w->agents[i].part == p)
				fprintf(f, "    a%u [label=\"%s\"%s];\n", i, w->agents[i].name,
					w->agents[i].quarantined ? ", color=red" : "");
		fprintf(f, "  }\n");
	}
	for (uint32_t i = 0; i < w->nchans; i++) {
		const struct rvm_chan *c = &w->chans[i];

		if (c->live)
			fprintf(f, "  a%u -> a%u [label=\"%" PRIu64 "\"%s];\n", c->src, c->dst, c->sent,
				w->agents[c->src].part == w->agents[c->dst].part ? "" : ", style=dashed");
	}
	fprintf(f, "}\n");
	if (fclose(f) != 0)
		return -1;
	if (svg) {
		/* Graphviz renders it; no shell, so a path is never a command. */
		char *argv[] = { "dot", "-Tsvg", dot, "-o", (char *)path, NULL };
		pid_t pid;
		int st;

		if (posix_spawnp(&pid, "dot", NULL, NULL, argv, environ) != 0 ||
		    waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rc = -2;
	}
	return rc;
}
