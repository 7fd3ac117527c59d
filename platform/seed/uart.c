/* platform/seed/uart.c - the console on UART0 of the LM3S6965 (PL011-compatible, no set-up needed). */
#include "seed.h"

#define UART0_DR 0x4000C000u
#define UART0_FR 0x4000C018u
#define FR_TXFF  (1u << 5) /* transmit FIFO full */

void rvm_seed_uart_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		while (RVM_SEED_REG(UART0_FR) & FR_TXFF)
			;
		RVM_SEED_REG(UART0_DR) = (uint8_t)s[i];
	}
}

void rvm_seed_puts(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	rvm_seed_uart_write(s, n);
}

/* Base-10 or base-16 digits of v, most significant first. */
static void put_num(const char *text, uint64_t v, unsigned base)
{
	char buf[24];
	size_t i = sizeof(buf);

	rvm_seed_puts(text);
	do {
		buf[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	rvm_seed_uart_write(buf + i, sizeof(buf) - i);
}

void rvm_seed_putu(const char *text, uint64_t v)
{
	put_num(text, v, 10);
}

void rvm_seed_putx(const char *text, uint64_t v)
{
	put_num(text, v, 16);
}
