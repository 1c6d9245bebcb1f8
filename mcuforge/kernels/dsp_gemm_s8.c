#include "dsp_gemm_s8.h"

#if defined(MCUFORGE_DSP)

/* Once per pointwise layer at most (a lone last pixel): kept small. */
void mcuforge_dsp_widen(uint32_t *block, int32_t column, int32_t k0, const int8_t *src, int32_t n) {
    uint32_t *dst = block + k0 + 2 * column; /* value k0 opens group k0 / 4, at word k0 */
    int32_t i;
    for (i = 0; i < n; i += 4, dst += 4) {
        const uint32_t x = n - i >= 4 ? mcuforge_read_s8x4(src + i) : mcuforge_read_s8_partial(src + i, n - i);
        dst[0] = mcuforge_sxtb16(x);
        dst[1] = mcuforge_sxtb16_ror8(x);
    }
}

void mcuforge_dsp_widen_pair_at(uint32_t *block, const int8_t *src, int32_t n) {
    mcuforge_dsp_widen_pair(block, src, n);
}

void mcuforge_dsp_fill(uint32_t *block, int32_t column, int32_t k0, int32_t n, int32_t value) {
    const uint32_t pair = ((uint32_t)value & 0xFFFFu) * 0x10001u;
    uint32_t *dst = block + k0 + 2 * column;
    int32_t i;
    for (i = 0; i < n; i += 4) {
        dst[0] = pair;
        dst[1] = pair;
        dst += 4;
    }
}

/* Values 4 i .. 4 i + 3 of a row of k, zeros past k (no byte past the row read): the widening of rows narrower
 * than the kernels' widths, out of line (it is not the hot case). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static uint32_t narrow_word(const int8_t *src, int32_t k, int32_t i) {
    uint32_t x = 0;
    int32_t j;
    if (k >= 4 * i + 4) {
        return mcuforge_read_s8x4(src + 4 * i);
    }
    for (j = 4 * i; j < k; ++j) {
        x |= (uint32_t)(uint8_t)src[j] << (8 * (j & 3));
    }
    return x;
}

/* One loop for every k, no byte past the row read: its tests on k cost ~3 cycles a pixel (k = 8: ~7k cycles on
 * vww's 8 -> 16 layer) where a loop of its own for k = 8 and narrow_word (now the deeper kind's) took ~90 bytes. */
void mcuforge_dsp_narrow_widen(uint32_t *block, const int8_t *src, int32_t k, int32_t pixels) {
    int32_t n;
    for (n = 0; n < pixels; ++n, src += k, block += 4) {
        uint32_t lo;
        uint32_t hi = 0;
        if (k >= 8) {
            lo = mcuforge_read_s8x4(src);
            hi = mcuforge_read_s8x4(src + 4);
        } else if (k >= 4) {
            lo = mcuforge_read_s8x4(src);
            if (k > 4) {
                hi = mcuforge_read_s8_partial(src + 4, k - 4);
            }
        } else {
            lo = mcuforge_read_s8_partial(src, k);
        }
        block[0] = mcuforge_sxtb16(lo);
        block[1] = mcuforge_sxtb16_ror8(lo);
        block[2] = mcuforge_sxtb16(hi);
        block[3] = mcuforge_sxtb16_ror8(hi);
    }
}

void mcuforge_dsp_narrow_records(uint32_t *records, const uint32_t *weights, const mcuforge_dsp_channel *table) {
    int32_t f;
    int32_t i;
    for (f = 0; f < MCUFORGE_DSP_NARROW_FILTERS; ++f, records += 8, weights += 4, ++table) {
        for (i = 0; i < 4; ++i) {
            records[i] = mcuforge_sadd16(weights[i], weights[i]);
        }
        records[4] = (uint32_t)table->bias << 1;
        records[5] = (uint32_t)table->multiplier;
        records[6] = (uint32_t)table->round;
        records[7] = (uint32_t)table->shift;
    }
}

/* One pixel's 16 values (v0..v3) into its rows of blocks A and B. */
MCUFORGE_INLINE void narrow16_pixel(uint32_t *a, uint32_t *b, uint32_t v0, uint32_t v1, uint32_t v2, uint32_t v3) {
    a[0] = mcuforge_sxtb16(v0);
    a[1] = mcuforge_sxtb16_ror8(v0);
    a[2] = mcuforge_sxtb16(v1);
    a[3] = mcuforge_sxtb16_ror8(v1);
    a[4] = mcuforge_sxtb16(v2);
    b[0] = 0; /* the first pass's sum */
    b[1] = mcuforge_sxtb16_ror8(v2);
    b[2] = mcuforge_sxtb16(v3);
    b[3] = mcuforge_sxtb16_ror8(v3);
}

void mcuforge_dsp_narrow16_widen(uint32_t *block_a, uint32_t *block_b, const int8_t *src, int32_t k, size_t step,
                                 int32_t pixels) {
    int32_t n;
    if (k == 16) { /* the common case: four loads a pixel */
        for (n = 0; n < pixels; ++n, src += step, block_a += 5, block_b += 4) {
            narrow16_pixel(block_a, block_b, mcuforge_read_s8x4(src), mcuforge_read_s8x4(src + 4),
                           mcuforge_read_s8x4(src + 8), mcuforge_read_s8x4(src + 12));
        }
        return;
    }
    for (n = 0; n < pixels; ++n, src += step, block_a += 5, block_b += 4) {
        narrow16_pixel(block_a, block_b, narrow_word(src, k, 0), narrow_word(src, k, 1), narrow_word(src, k, 2),
                       narrow_word(src, k, 3));
    }
}

void mcuforge_dsp_narrow16_records(uint32_t *records, const uint32_t *block_a, const uint32_t *block_b,
                                   const mcuforge_dsp_channel *table) {
    int32_t f;
    int32_t i;
    for (f = 0; f < MCUFORGE_DSP_NARROW16_FILTERS; ++f, records += 12, block_a += 5, block_b += 4, ++table) {
        for (i = 0; i < 5; ++i) {
            records[i] = mcuforge_sadd16(block_a[i], block_a[i]);
        }
        records[5] = (uint32_t)table->bias << 1;
        for (i = 1; i < 4; ++i) {
            records[5 + i] = mcuforge_sadd16(block_b[i], block_b[i]);
        }
        records[9] = (uint32_t)table->multiplier;
        records[10] = (uint32_t)table->round;
        records[11] = (uint32_t)table->shift;
    }
}

#if defined(MCUFORGE_DSP_ASM) && defined(__thumb2__)
/* The pass in assembly (dsp_gemm_s8.h): r0-r3 the filter's weights, r4 twice its bias, r5 its multiplier, r6 its
 * round, r7 its shift (the loop count above it), r8 the block pointer, r9 the filter's store offset (outputs at
 * r9 + r8 once r8 is past the pixel), r10-r12 and LR a pixel's words (r10 accumulating, r11 the stage's
 * temporary). The stack holds the block, the next record, the store offset, its end (past the last filter) and
 * -512 runs. Its own section: --gc-sections drops it from builds without a narrow layer. */
#define NARROW_PIXEL \
    "ldm r8!, {r10, r11, r12, lr}\n\t" \
    "smlad r10, r10, r0, r4\n\t" \
    "smlad r10, r11, r1, r10\n\t" \
    "smlad r10, r12, r2, r10\n\t" \
    "smlad r10, lr, r3, r10\n\t" \
    "add r11, r6, r10, asr #31\n\t" \
    "smmlar r10, r10, r5, r11\n\t" \
    "asr r10, r10, r7\n\t" \
    "ssat r10, #8, r10\n\t" \
    "strb r10, [r9, r8]\n\t"
__asm__(
    ".pushsection .text.mcuforge_dsp_narrow_pass,\"ax\",%progbits\n\t"
    ".syntax unified\n\t"
    ".thumb\n\t"
    ".p2align 2\n\t"
    ".global mcuforge_dsp_narrow_pass\n\t"
    ".thumb_func\n\t"
    ".type mcuforge_dsp_narrow_pass, %function\n"
    "mcuforge_dsp_narrow_pass:\n\t"
    "push {r4-r11, lr}\n\t"
    "sub sp, sp, #20\n\t"
    "ldm r0, {r1-r5}\n\t"          /* block, records, out, filters, runs */
    "subs r3, r3, r1\n\t"
    "subs r3, r3, #16\n\t"        /* filter 0's store offset: out - (block + 16) */
    "adds r4, r4, r3\n\t"
    "lsls r5, r5, #9\n\t"         /* two loops of 4 pixels a run */
    "negs r5, r5\n\t"
    "str r1, [sp]\n\t"
    "str r2, [sp, #4]\n\t"
    "str r3, [sp, #8]\n\t"
    "str r4, [sp, #12]\n\t"
    "str r5, [sp, #16]\n"
    "1:\n\t"
    "ldr r8, [sp, #4]\n\t"
    "ldm r8!, {r0-r7}\n\t"
    "str r8, [sp, #4]\n\t"
    "ldr r8, [sp, #16]\n\t"
    "add r7, r7, r8\n\t"
    "ldr r9, [sp, #8]\n\t"
    "ldr r8, [sp]\n"
    "2:\n\t"
    NARROW_PIXEL NARROW_PIXEL NARROW_PIXEL NARROW_PIXEL
    "adds r7, r7, #256\n\t"
    "bmi 2b\n\t"
    "ldr r10, [sp, #12]\n\t"
    "adds r9, r9, #1\n\t"
    "str r9, [sp, #8]\n\t"
    "cmp r9, r10\n\t"
    "bne 1b\n\t"
    "add sp, sp, #20\n\t"
    "pop {r4-r11, pc}\n\t"
    ".size mcuforge_dsp_narrow_pass, .-mcuforge_dsp_narrow_pass\n\t"
    ".popsection");
/* The deeper kind's two passes (dsp_gemm_s8.h). First pass: r0-r4 the filter's first 5 weight words, r5 twice
 * its bias, r6 block A, r7 block B's sum slots, r8-r12 a pixel's words (r8 accumulating), LR the runs left.
 * Second pass: r0-r2 its last 3 weight words, r3 its multiplier, r4 its round, r5 its shift (-256 runs above it),
 * r6 block B, r7 the store offset (outputs at r7 + 2 r6 once r6 is past the pixel), r8-r11 a row of block B. The
 * stack holds block A, block B, the next record, the store offset, its end and the runs. */
#define NARROW16_FIRST \
    "ldm r6!, {r8, r9, r10, r11, r12}\n\t" \
    "smlad r8, r8, r0, r5\n\t" \
    "smlad r8, r9, r1, r8\n\t" \
    "smlad r8, r10, r2, r8\n\t" \
    "smlad r8, r11, r3, r8\n\t" \
    "smlad r8, r12, r4, r8\n\t" \
    "str r8, [r7], #16\n\t"
#define NARROW16_SECOND \
    "ldm r6!, {r8, r9, r10, r11}\n\t" \
    "smlad r8, r9, r0, r8\n\t" \
    "smlad r8, r10, r1, r8\n\t" \
    "smlad r8, r11, r2, r8\n\t" \
    "add r9, r4, r8, asr #31\n\t" \
    "smmlar r8, r8, r3, r9\n\t" \
    "asr r8, r8, r5\n\t" \
    "ssat r8, #8, r8\n\t" \
    "strb r8, [r7, r6, lsl #1]\n\t"
#define NARROW_TIMES8(X) X X X X X X X X
__asm__(
    ".pushsection .text.mcuforge_dsp_narrow16_pass,\"ax\",%progbits\n\t"
    ".syntax unified\n\t"
    ".thumb\n\t"
    ".p2align 2\n\t"
    ".global mcuforge_dsp_narrow16_pass\n\t"
    ".thumb_func\n\t"
    ".type mcuforge_dsp_narrow16_pass, %function\n"
    "mcuforge_dsp_narrow16_pass:\n\t"
    "push {r4-r11, lr}\n\t"
    "sub sp, sp, #24\n\t"
    "ldm r0, {r1-r6}\n\t"          /* block A, block B, records, out, filters, runs */
    "add r7, r2, #16\n\t"
    "sub r4, r4, r7, lsl #1\n\t"   /* filter 0's store offset: out - 2 (block B + 16) */
    "adds r5, r5, r4\n\t"
    "str r1, [sp]\n\t"
    "str r2, [sp, #4]\n\t"
    "str r3, [sp, #8]\n\t"
    "str r4, [sp, #12]\n\t"
    "str r5, [sp, #16]\n\t"
    "str r6, [sp, #20]\n"
    "1:\n\t"
    "ldr r7, [sp, #8]\n\t"
    "ldm r7!, {r0-r5}\n\t"
    "str r7, [sp, #8]\n\t"
    "ldr r6, [sp]\n\t"
    "ldr r7, [sp, #4]\n\t"
    "ldr lr, [sp, #20]\n"
    "2:\n\t"
    NARROW_TIMES8(NARROW16_FIRST)
    "subs lr, lr, #1\n\t"
    "bne 2b\n\t"
    "ldr r6, [sp, #8]\n\t"
    "ldm r6!, {r0-r5}\n\t"
    "str r6, [sp, #8]\n\t"
    "ldr r6, [sp, #20]\n\t"
    "sub r5, r5, r6, lsl #8\n\t"
    "ldr r6, [sp, #4]\n\t"
    "ldr r7, [sp, #12]\n"
    "3:\n\t"
    NARROW_TIMES8(NARROW16_SECOND)
    "adds r5, r5, #256\n\t"
    "bmi 3b\n\t"
    "ldr r10, [sp, #16]\n\t"
    "adds r7, r7, #1\n\t"
    "str r7, [sp, #12]\n\t"
    "cmp r7, r10\n\t"
    "bne 1b\n\t"
    "add sp, sp, #24\n\t"
    "pop {r4-r11, pc}\n\t"
    ".size mcuforge_dsp_narrow16_pass, .-mcuforge_dsp_narrow16_pass\n\t"
    ".popsection");
#else
/* The same in C (hosts emulating the DSP instructions, cores without inline assembly), TFLite's fast stage on the
 * doubled accumulator (dsp_s8.h's mcuforge_dsp_output without its doubling). */
MCUFORGE_INLINE int8_t narrow_output(int32_t acc, const uint32_t *stage) {
    const int32_t high = mcuforge_smmulr(acc, (int32_t)stage[0]);
    return (int8_t)mcuforge_ssat8((high + (high >> 31) + (int32_t)stage[1]) >> (int32_t)stage[2]);
}

void mcuforge_dsp_narrow_pass(const mcuforge_dsp_narrow_job *job) {
    const uint32_t *x = job->block;
    int8_t *out = job->out;
    int32_t n;
    int32_t f;
    int32_t i;
    for (n = 0; n < job->runs * MCUFORGE_DSP_NARROW_RUN; ++n, x += 4, out += MCUFORGE_DSP_NARROW_FILTERS) {
        const uint32_t *r = job->records;
        for (f = 0; f < job->filters; ++f, r += 8) {
            int32_t acc = (int32_t)r[4];
            for (i = 0; i < 4; ++i) {
                acc = mcuforge_smlad(x[i], r[i], acc);
            }
            out[f] = narrow_output(acc, r + 5);
        }
    }
}

void mcuforge_dsp_narrow16_pass(const mcuforge_dsp_narrow16_job *job) {
    const uint32_t *a = job->block_a;
    const uint32_t *b = job->block_b;
    int8_t *out = job->out;
    int32_t n;
    int32_t f;
    int32_t i;
    for (n = 0; n < job->runs * MCUFORGE_DSP_NARROW_RUN; ++n, a += 5, b += 4, out += MCUFORGE_DSP_NARROW16_FILTERS) {
        const uint32_t *r = job->records;
        for (f = 0; f < job->filters; ++f, r += 12) {
            int32_t acc = (int32_t)r[5];
            for (i = 0; i < 5; ++i) {
                acc = mcuforge_smlad(a[i], r[i], acc);
            }
            for (i = 1; i < 4; ++i) {
                acc = mcuforge_smlad(b[i], r[5 + i], acc);
            }
            out[f] = narrow_output(acc, r + 9);
        }
    }
}
#endif

void mcuforge_dsp_tiles_widen(uint32_t *block, const int8_t *src, int32_t k, int32_t tiles) {
    int32_t t;
    int32_t i;
    for (t = 0; t < tiles; ++t, src += 3 * (size_t)k) {
        const int8_t *y = src + k;
        const int8_t *z = y + k;
        for (i = 0; i < k; i += 4, block += 6) { /* the three loads first: back to back they pipeline */
            const uint32_t a = mcuforge_read_s8x4(src + i);
            const uint32_t b = mcuforge_read_s8x4(y + i);
            const uint32_t c = mcuforge_read_s8x4(z + i);
            uint32_t lanes;
            lanes = mcuforge_sxtb16(a);
            block[0] = mcuforge_sadd16(lanes, lanes);
            lanes = mcuforge_sxtb16_ror8(a);
            block[1] = mcuforge_sadd16(lanes, lanes);
            lanes = mcuforge_sxtb16(b);
            block[2] = mcuforge_sadd16(lanes, lanes);
            lanes = mcuforge_sxtb16_ror8(b);
            block[3] = mcuforge_sadd16(lanes, lanes);
            lanes = mcuforge_sxtb16(c);
            block[4] = mcuforge_sadd16(lanes, lanes);
            lanes = mcuforge_sxtb16_ror8(c);
            block[5] = mcuforge_sadd16(lanes, lanes);
        }
    }
}

#if defined(MCUFORGE_DSP_ASM) && defined(__thumb2__)
/* The pass in assembly (dsp_gemm_s8.h). For each pair: its rows widened into the buffer (r8, r9 the rows, r7 the
 * buffer; one group, two, then four a step), then its tiles: r0-r2 filter A's accumulators of the tile's pixels
 * 0-2, r3-r5 filter B's, r6 the tile pointer, r7 the weights pointer, LR the tile's outputs; a group in two halves,
 * first the (v1, v3) lanes then the (v0, v2) ones, each loading filter A's and B's words of the lanes (r8, r9) and
 * the three pixels' (r10-r12) in one chain (the second half's last loads advance the pointers). The groups run
 * eight per loop pass, entered at the copy that leaves (-groups) mod 8 of them out (as the pairs' loop: every copy
 * the same 88 bytes, the loop word-aligned), the buffer's end ending the loop (a TST of the weights pointer: the
 * buffer ends at a multiple of MCUFORGE_DSP_TILES_ALIGN). The pixels are doubled (mcuforge_dsp_tiles_widen) and the
 * accumulators start from twice the biases: the output stage is the fast one of the doubled accumulator (dsp_s8.h's
 * mcuforge_dsp_fast_doubled, the narrow kernels' four instructions), in place, filter A's then B's (r7-r9 the
 * channel's multiplier, round and shift, r10 the temporary, r11 out_c). The stack holds the job, the buffer's end,
 * the loop's entry, a spare word, the pair's channel entries, the next pair's rows, the pair's first outputs, the
 * entries' end, the buffer, out_c, the pass's end and twice the pair's biases. Its own section: --gc-sections drops
 * it from builds without tiles. */
/* Half a group: the (v0, v2) or the (v1, v3) lanes, filters A and B (r8, r9) times the three pixels (r10-r12). */
#define TILES_HALF \
    "smlad r0, r10, r8, r0\n\t" \
    "smlad r3, r10, r9, r3\n\t" \
    "smlad r1, r11, r8, r1\n\t" \
    "smlad r4, r11, r9, r4\n\t" \
    "smlad r2, r12, r8, r2\n\t" \
    "smlad r5, r12, r9, r5\n\t"
#define TILES_GROUP \
    "ldr.w r8, [r7, #4]\n\t" \
    "ldr.w r9, [r7, #12]\n\t" \
    "ldr.w r10, [r6, #4]\n\t" \
    "ldr.w r11, [r6, #12]\n\t" \
    "ldr.w r12, [r6, #20]\n\t" \
    TILES_HALF \
    "ldr.w r9, [r7, #8]\n\t" \
    "ldr r8, [r7], #16\n\t" \
    "ldr.w r11, [r6, #8]\n\t" \
    "ldr.w r12, [r6, #16]\n\t" \
    "ldr r10, [r6], #24\n\t" \
    TILES_HALF
/* Two groups of the pair's rows widened (r8, r9 the rows, r7 the buffer): one chain of four loads. */
#define TILES_ROWS2 \
    "ldr r5, [r8, #4]\n\t" \
    "ldr r1, [r8], #8\n\t" \
    "ldr r11, [r9, #4]\n\t" \
    "ldr r3, [r9], #8\n\t" \
    "sxtb16 r0, r1\n\t" \
    "sxtb16 r1, r1, ror #8\n\t" \
    "sxtb16 r2, r3\n\t" \
    "sxtb16 r3, r3, ror #8\n\t" \
    "sxtb16 r4, r5\n\t" \
    "sxtb16 r5, r5, ror #8\n\t" \
    "sxtb16 r10, r11\n\t" \
    "sxtb16 r11, r11, ror #8\n\t" \
    "stm r7!, {r0-r5, r10, r11}\n\t"
#define TILES_STRING(x) #x
#define TILES_STRING_OF(x) TILES_STRING(x)
#define TILES_END_MASK TILES_STRING_OF(MCUFORGE_DSP_TILES_ALIGN - 16) /* the bits of a group's address in the buffer */
#define TILES_FAST(acc, m, round, shift) \
    "add r10, " round ", " acc ", asr #31\n\t" \
    "smmlar " acc ", " acc ", " m ", r10\n\t" \
    "asr " acc ", " acc ", " shift "\n\t" \
    "ssat " acc ", #8, " acc "\n\t"
__asm__(
    ".pushsection .text.mcuforge_dsp_tiles_pass,\"ax\",%progbits\n\t"
    ".syntax unified\n\t"
    ".thumb\n\t"
    ".p2align 2\n\t"
    ".global mcuforge_dsp_tiles_pass\n\t"
    ".thumb_func\n\t"
    ".type mcuforge_dsp_tiles_pass, %function\n"
    "mcuforge_dsp_tiles_pass:\n\t"
    "push {r4-r11, lr}\n\t"
    "sub sp, sp, #52\n\t"
    "ldm r0, {r1-r9}\n\t"         /* block, end, weights, channels, out, out_c, groups, filter, pairs */
    "str r0, [sp]\n\t"
    "str r3, [sp, #32]\n\t"       /* the buffer */
    "str r4, [sp, #16]\n\t"       /* the pair's channel entries */
    "str r8, [sp, #20]\n\t"       /* its rows */
    "str r5, [sp, #24]\n\t"       /* its first outputs */
    "str r6, [sp, #36]\n\t"       /* out_c */
    "str r2, [sp, #40]\n\t"       /* the pass's end */
    "add r3, r3, r7, lsl #4\n\t"
    "str r3, [sp, #4]\n\t"        /* the buffer's end */
    "movs r5, #40\n\t"
    "mla r4, r9, r5, r4\n\t"
    "str r4, [sp, #28]\n\t"       /* the channel entries' end */
    "rsbs r2, r7, #0\n\t"
    "and r2, r2, #7\n\t"          /* the groups the first loop pass leaves out */
    "adr.w r3, 1f\n\t"
    "adr.w r1, 2f\n\t"
    "subs r1, r1, r3\n\t"
    "mla r3, r1, r2, r3\n\t"
    "orr r3, r3, #1\n\t"
    "str r3, [sp, #8]\n"          /* entry */
    "7:\n\t"                      /* a pair: twice its biases, its rows widened */
    "ldr r12, [sp, #16]\n\t"
    "ldr r8, [sp, #20]\n\t"
    "ldr r0, [r12]\n\t"
    "ldr r1, [r12, #20]\n\t"
    "ldr r7, [sp, #32]\n\t"
    "ldr r6, [sp, #4]\n\t"
    "lsls r0, r0, #1\n\t"
    "lsls r1, r1, #1\n\t"
    "str r0, [sp, #44]\n\t"
    "str r1, [sp, #48]\n\t"
    "sub r9, r6, r7\n\t"          /* the buffer's bytes: 4 k */
    "add r9, r8, r9, lsr #2\n\t"  /* filter B's row, k after A's */
    "add r0, r9, r9\n\t"
    "sub r0, r0, r8\n\t"
    "str r0, [sp, #20]\n\t"       /* the next pair's rows, 2 k after A's */
    "sub r12, r6, r7\n\t"
    "tst r12, #16\n\t"            /* an odd group count: one group first */
    "beq 6f\n\t"
    "ldr r10, [r8], #4\n\t"
    "ldr r11, [r9], #4\n\t"
    "sxtb16 r0, r10\n\t"
    "sxtb16 r1, r10, ror #8\n\t"
    "sxtb16 r2, r11\n\t"
    "sxtb16 r3, r11, ror #8\n\t"
    "stm r7!, {r0-r3}\n\t"
    "cmp r7, r6\n\t"
    "beq 5f\n"
    "6:\n\t"
    "tst r12, #32\n\t"            /* then two when the count is 2 or 3 mod 4 */
    "beq 4f\n\t"
    TILES_ROWS2
    "cmp r7, r6\n\t"
    "beq 5f\n"
    "4:\n\t"                      /* then four a step */
    TILES_ROWS2 TILES_ROWS2
    "cmp r7, r6\n\t"
    "bne 4b\n"
    "5:\n\t"
    "ldr r6, [sp, #0]\n\t"
    "ldr lr, [sp, #24]\n\t"       /* the first tile's outputs */
    "ldr r6, [r6]\n\t"            /* the first tile */
    "b 8f\n\t"
    ".p2align 2\n"
    "1:\n\t"
    TILES_GROUP
    "2:\n\t"
    TILES_GROUP TILES_GROUP TILES_GROUP TILES_GROUP TILES_GROUP TILES_GROUP TILES_GROUP
    "tst r7, #" TILES_END_MASK "\n\t" /* the buffer's end: the only multiple of MCUFORGE_DSP_TILES_ALIGN in it */
    "bne 1b\n\t"
    "ldr r12, [sp, #16]\n\t"      /* a's entry at [r12], b's at [r12, #20] */
    "ldr r7, [r12, #4]\n\t"
    "ldr r8, [r12, #8]\n\t"
    "ldr r9, [r12, #12]\n\t"
    "ldr r11, [sp, #36]\n\t"      /* out_c */
    TILES_FAST("r0", "r7", "r8", "r9") TILES_FAST("r1", "r7", "r8", "r9") TILES_FAST("r2", "r7", "r8", "r9")
    "ldr r7, [r12, #24]\n\t"
    "ldr r8, [r12, #28]\n\t"
    "ldr r9, [r12, #32]\n\t"
    "ldr r12, [sp, #40]\n\t"      /* the pass's end */
    TILES_FAST("r3", "r7", "r8", "r9") TILES_FAST("r4", "r7", "r8", "r9") TILES_FAST("r5", "r7", "r8", "r9")
    "strb r0, [lr]\n\t"            /* LR: the tile's outputs */
    "strb r3, [lr, #1]\n\t"
    "add lr, lr, r11\n\t"
    "strb r1, [lr]\n\t"
    "strb r4, [lr, #1]\n\t"
    "add lr, lr, r11\n\t"
    "strb r2, [lr]\n\t"
    "strb r5, [lr, #1]\n\t"
    "add lr, lr, r11\n\t"
    "cmp r6, r12\n\t"
    "beq 9f\n"
    "8:\n\t"                      /* a tile's start */
    "ldr r7, [sp, #32]\n\t"
    "ldr r0, [sp, #44]\n\t"
    "ldr r3, [sp, #48]\n\t"
    "ldr r12, [sp, #8]\n\t"
    "mov r1, r0\n\t"
    "mov r2, r0\n\t"
    "mov r4, r3\n\t"
    "mov r5, r3\n\t"
    "bx r12\n"
    "9:\n\t"                      /* the pair done: the next one */
    "ldr r0, [sp, #16]\n\t"
    "ldr r1, [sp, #24]\n\t"
    "ldr r2, [sp, #28]\n\t"
    "adds r0, r0, #40\n\t"
    "adds r1, r1, #2\n\t"
    "str r0, [sp, #16]\n\t"
    "str r1, [sp, #24]\n\t"
    "cmp r0, r2\n\t"
    "bne 7b\n\t"
    "add sp, sp, #52\n\t"
    "pop {r4-r11, pc}\n\t"
    ".size mcuforge_dsp_tiles_pass, .-mcuforge_dsp_tiles_pass\n\t"
    ".popsection");
#else
/* The same in C (hosts emulating the DSP instructions, builds without the inline assembly). */
void mcuforge_dsp_tiles_pass(const mcuforge_dsp_tiles_job *job) {
    const size_t out_c = (size_t)job->out_c;
    const int8_t *filter = job->filter;
    int32_t j;
    for (j = 0; j < job->pairs; ++j, filter += 8 * (size_t)job->groups) {
        const mcuforge_dsp_channel *ca = job->channels + 2 * j;
        const mcuforge_dsp_channel *cb = ca + 1;
        const uint32_t *x = job->block;
        int8_t *out = job->out + 2 * j;
        mcuforge_dsp_widen_pair(job->weights, filter, 4 * job->groups);
        for (; x < job->end; out += 3 * out_c) {
            const uint32_t *w = job->weights;
            int32_t acc[6]; /* doubled: the pixels are */
            int32_t g;
            int32_t p;
            acc[0] = acc[1] = acc[2] = (int32_t)((uint32_t)ca->bias << 1);
            acc[3] = acc[4] = acc[5] = (int32_t)((uint32_t)cb->bias << 1);
            for (g = 0; g < job->groups; ++g, w += 4, x += 6) {
                for (p = 0; p < 3; ++p) {
                    acc[p] = mcuforge_smlad(x[2 * p], w[0], acc[p]);
                    acc[p] = mcuforge_smlad(x[2 * p + 1], w[1], acc[p]);
                    acc[3 + p] = mcuforge_smlad(x[2 * p], w[2], acc[3 + p]);
                    acc[3 + p] = mcuforge_smlad(x[2 * p + 1], w[3], acc[3 + p]);
                }
            }
            for (p = 0; p < 3; ++p) {
                out[(size_t)p * out_c] = mcuforge_dsp_fast_doubled(acc[p], ca->multiplier, ca->round, ca->shift);
                out[(size_t)p * out_c + 1] = mcuforge_dsp_fast_doubled(acc[3 + p], cb->multiplier, cb->round,
                                                                       cb->shift);
            }
        }
    }
}
#endif

#else
typedef int mcuforge_dsp_gemm_s8_unused; /* ISO C wants a non-empty translation unit */
#endif
