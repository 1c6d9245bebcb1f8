/* Minimal Cortex-M startup for mcuforge's bare-metal runner (written for mcuforge; no vendor code).
 *
 * Why our own: newlib's rdimon crt0 alone locks up on QEMU's mps2 boards, which boot from the vector table at
 * address 0. So: a vector table (initial SP + reset handler + fault handlers), a reset handler that copies
 * .data, zeroes .bss, enables the FPU when the ABI uses it, calls main and exits with its status. The runner
 * talks to the host through raw semihosting calls (mcuforge_semihost), not the C library's stdio: that would
 * add some 9 KB of flash that a deployed model does not carry. The stack painting that main uses for the
 * high-water mark lives here too, next to the stack symbols (all symbols come from cortex_m.ld). */
#include <stdint.h>

/* The pattern the runner's main (runner_main.c) looks for, and how it reads the stack pointer. */
#define MCUFORGE_STACK_PATTERN 0xC5A5C5A5u

static inline __attribute__((always_inline)) uint32_t mcuforge_current_sp(void) {
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

extern uint32_t __data_load__;
extern uint32_t __data_start__;
extern uint32_t __data_end__;
extern uint32_t __bss_start__;
extern uint32_t __bss_end__;
extern uint32_t __stack_top__;
extern uint32_t __stack_limit__;

extern int main(void);

void Reset_Handler(void);
uint32_t mcuforge_semihost(uint32_t operation, const void *argument);
void mcuforge_fault_handler(void);
void mcuforge_paint_stack(void);
uint32_t mcuforge_stack_low_water(void);

/* One semihosting call (BKPT 0xAB: QEMU services it on every M profile core). */
uint32_t mcuforge_semihost(uint32_t operation, const void *argument) {
    uint32_t result;
    __asm__ volatile("mov r0, %1\n mov r1, %2\n bkpt 0xab\n mov %0, r0"
                     : "=r"(result)
                     : "r"(operation), "r"(argument)
                     : "r0", "r1", "memory");
    return result;
}

/* After a fault the C library's state is unknown: print with raw SYS_WRITE0, then SYS_EXIT with
 * "run-time error", so QEMU exits with status 1 instead of hanging until the runner's timeout. */
void mcuforge_fault_handler(void) {
    static const char message[] = "mcuforge: processor fault\n";
    (void)mcuforge_semihost(0x04u, message);
    (void)mcuforge_semihost(0x18u, (const void *)0x20023u);
    for (;;) {
    }
}

/* The stack region below the caller is filled with a pattern; after an inference, the lowest word that no
 * longer holds it is the deepest byte the inference touched. No interrupts run, so nothing else writes there. */
__attribute__((noinline)) void mcuforge_paint_stack(void) {
    volatile uint32_t *word = &__stack_limit__;
    volatile uint32_t *top = (volatile uint32_t *)(mcuforge_current_sp() - 64u);
    while (word < top) {
        *word++ = MCUFORGE_STACK_PATTERN;
    }
}

uint32_t mcuforge_stack_low_water(void) {
    const volatile uint32_t *word = &__stack_limit__;
    while (word < &__stack_top__ && *word == MCUFORGE_STACK_PATTERN) {
        ++word;
    }
    return (uint32_t)(uintptr_t)word;
}

struct vector_table {
    uint32_t *initial_sp;
    void (*handlers[15])(void);
};

/* Exceptions 1..15: reset, then NMI, HardFault, MemManage, BusFault, UsageFault, 4 reserved, SVCall,
 * DebugMonitor, reserved, PendSV, SysTick. Nothing is enabled, so anything but reset is a fault. */
__attribute__((section(".isr_vector"), used)) static const struct vector_table vectors = {
    &__stack_top__,
    {Reset_Handler, mcuforge_fault_handler, mcuforge_fault_handler, mcuforge_fault_handler,
     mcuforge_fault_handler, mcuforge_fault_handler, 0, 0, 0, 0, mcuforge_fault_handler, mcuforge_fault_handler, 0,
     mcuforge_fault_handler, mcuforge_fault_handler}};

void Reset_Handler(void) {
    volatile uint32_t *src = &__data_load__;
    volatile uint32_t *dst;
    /* volatile: keeps these loops plain stores instead of calls into the C library before it is set up */
    for (dst = &__data_start__; dst < &__data_end__;) {
        *dst++ = *src++;
    }
    for (dst = &__bss_start__; dst < &__bss_end__;) {
        *dst++ = 0;
    }
#if defined(__ARM_FP)
    /* CPACR: full access to CP10 and CP11, else the first VFP instruction is a UsageFault. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n isb" : : : "memory");
#endif
    {
        /* SYS_EXIT_EXTENDED: QEMU exits with main's status (ADP_Stopped_ApplicationExit, status) */
        const uint32_t exit_block[2] = {0x20026u, (uint32_t)main()};
        (void)mcuforge_semihost(0x20u, exit_block);
    }
    for (;;) {
    }
}
