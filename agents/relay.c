/* agents/relay.c - a ~1 KB message relay agent: recv (blocking), check, transform, send, log. */
#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("rvm"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name), visibility("default")))

IMPORT("recv") int rvm_recv(unsigned char *buf, int cap);
IMPORT("send") int rvm_send(int edge, const unsigned char *buf, int len);
IMPORT("log") void rvm_log(const char *msg, int len);

#define RECENT 8

static unsigned char buf[256];
static uint32_t recent[RECENT];
static char note[24];

static uint32_t fnv1a(const unsigned char *p, int n)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void log_drop(int i)
{
	static const char text[] = "dup at ";
	int len = 0;
	char digits[10];
	int nd = 0;

	for (const char *p = text; *p; p++)
		note[len++] = *p;
	do {
		digits[nd++] = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	while (nd)
		note[len++] = digits[--nd];
	rvm_log(note, len);
}

/*
 * Relays n messages: each is received (rvm.recv may block), hashed, dropped with a log line if
 * it repeats one of the last RECENT hashes, otherwise upper-cased and sent on edge (hash & 1).
 * Returns a running fold of every hash, for the host to check.
 */
EXPORT("relay") uint32_t relay(int n)
{
	uint32_t fold = 0;

	for (int i = 0; i < n; i++) {
		int len = rvm_recv(buf, (int)sizeof(buf));
		uint32_t h;
		int dup = 0;

		if (len < 0 || len > (int)sizeof(buf))
			return 0xffffffffu;
		h = fnv1a(buf, len);
		fold = (fold << 5 | fold >> 27) ^ h;
		for (int k = 0; k < RECENT; k++)
			dup |= recent[k] == h;
		if (dup) {
			log_drop(i);
			continue;
		}
		recent[i % RECENT] = h;
		for (int k = 0; k < len; k++)
			if (buf[k] >= 'a' && buf[k] <= 'z')
				buf[k] = (unsigned char)(buf[k] - 32);
		if (rvm_send((int)(h & 1), buf, len) != len)
			return 0xfffffffeu;
	}
	return fold;
}
