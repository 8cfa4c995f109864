/* A latency histogram for the bench tools (loadgen, fast_csms): log-linear
 * buckets, 64 per power of two, so a percentile is within 1.6 % of the true
 * value from 1 ns to 68 s (longer times count as 68 s). Fixed size, no
 * allocation: adding a sample is a few instructions.
 */
#ifndef SITEGATE_BENCH_HIST_H
#define SITEGATE_BENCH_HIST_H

#include <stdint.h>
#include <stdio.h>

#define BHIST_SUB_BITS 6                        /* 64 sub-buckets per power of two */
#define BHIST_BUCKETS (32 << BHIST_SUB_BITS)    /* up to 2^36 ns */

struct bhist {
    uint64_t bucket[BHIST_BUCKETS];
    uint64_t count;
    uint64_t max_ns;
    double sum_ns;
};

void bhist_reset(struct bhist *h);

void bhist_add(struct bhist *h, uint64_t ns);

/* The value (ns) below which a share q (0..1) of the samples lie; 0 when
 * there are none. */
double bhist_quantile(const struct bhist *h, double q);

/* {"count":..,"mean_us":..,"p50_us":..,"p90_us":..,"p99_us":..,"p999_us":..,"max_us":..} */
void bhist_print_json(const struct bhist *h, FILE *out);

#endif
