/* platform/seed/seed.h - the seed board (QEMU lm3s6965evb, Cortex-M3, 64 KB SRAM): its services. */
#ifndef RVM_SEED_H
#define RVM_SEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/platform.h>

/* Memory-mapped register at address a. */
#define RVM_SEED_REG(a) (*(volatile uint32_t *)(uintptr_t)(a))

/* System control block registers used by the board. */
#define RVM_SEED_SHCSR 0xE000ED24u /* handler enables: MemManage = bit 16 */
#define RVM_SEED_CFSR  0xE000ED28u /* configurable fault status (MMFSR = low byte) */
#define RVM_SEED_MMFAR 0xE000ED34u /* MemManage fault address (valid when CFSR bit 7) */

/* UART0: writes one byte at a time, waiting while its FIFO is full. */
void rvm_seed_uart_write(const char *s, size_t n);
/* Writes a NUL-terminated string. */
void rvm_seed_puts(const char *s);
/* Writes "text<decimal>" and nothing else. */
void rvm_seed_putu(const char *text, uint64_t v);
/* Writes "text<hex>". */
void rvm_seed_putx(const char *text, uint64_t v);

/* SysTick: free-running 24-bit counter at the processor clock, wraps counted in its interrupt. */
void rvm_seed_systick_start(void);
/* SysTick counts since start (monotonic, 64-bit). */
uint64_t rvm_seed_ticks(void);
/* Processor clock of the board, in Hz (SysTick's clock source). */
#define RVM_SEED_CLOCK_HZ 12500000u
/* Nanoseconds per SysTick count at that clock. */
#define RVM_SEED_NS_PER_TICK (1000000000u / RVM_SEED_CLOCK_HZ)

/* Semihosting: ends QEMU with this exit status (SYS_EXIT_EXTENDED). Never returns. */
_Noreturn void rvm_seed_exit(uint32_t status);
/* Semihosting SYS_TIME: the host's seconds since 1970 (0 when unavailable). */
uint32_t rvm_seed_host_time(void);

/* Semihosting SYS_GET_CMDLINE: QEMU's "IMAGE -append text" into buf (NUL-terminated);
 * returns its length, 0 when unavailable. */
size_t rvm_seed_cmdline(char *buf, size_t cap);
/* Recurses on the kernel stack until the MPU guard stops it (platform/seed/overflow.c). */
void rvm_seed_overflow(void);

/* Fills *out with the board's rvm_platform table. */
void rvm_seed_platform(struct rvm_platform *out);

/* Prints why, then exits QEMU with status 1. */
_Noreturn void rvm_seed_panic(const char *why);

#endif
