#include "bench_hist.h"

#include <string.h>

#define BHIST__SUB (1u << BHIST_SUB_BITS)

/* Values below 64 ns have a bucket each; above, a power of two [2^k, 2^(k+1))
 * is cut into 64 buckets of equal width. */
static size_t bhist__index(uint64_t ns)
{
    if (ns < BHIST__SUB)
        return (size_t)ns;
    int msb = 63 - __builtin_clzll(ns);
    int shift = msb - BHIST_SUB_BITS;
    size_t i = ((size_t)(shift + 1) << BHIST_SUB_BITS) + (size_t)((ns >> shift) & (BHIST__SUB - 1));
    return i < BHIST_BUCKETS ? i : BHIST_BUCKETS - 1;
}

/* The middle of bucket i, in ns. */
static double bhist__value(size_t i)
{
    if (i < BHIST__SUB)
        return (double)i;
    int shift = (int)(i >> BHIST_SUB_BITS) - 1;
    uint64_t low = (uint64_t)(BHIST__SUB + (i & (BHIST__SUB - 1))) << shift;
    return (double)low + (double)((uint64_t)1 << shift) / 2.0;
}

void bhist_reset(struct bhist *h)
{
    memset(h, 0, sizeof(*h));
}

void bhist_add(struct bhist *h, uint64_t ns)
{
    h->bucket[bhist__index(ns)]++;
    h->count++;
    h->sum_ns += (double)ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

double bhist_quantile(const struct bhist *h, double q)
{
    if (!h->count)
        return 0.0;
    /* The rank of the sample asked for, 1-based: at least the first. */
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < BHIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            double v = bhist__value(i);
            return v < (double)h->max_ns ? v : (double)h->max_ns;
        }
    }
    return (double)h->max_ns;
}

void bhist_print_json(const struct bhist *h, FILE *out)
{
    fprintf(out,
            "{\"count\":%llu,\"mean_us\":%.2f,\"p50_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,"
            "\"p999_us\":%.2f,\"max_us\":%.2f}",
            (unsigned long long)h->count, h->count ? h->sum_ns / (double)h->count / 1e3 : 0.0,
            bhist_quantile(h, 0.5) / 1e3, bhist_quantile(h, 0.9) / 1e3,
            bhist_quantile(h, 0.99) / 1e3, bhist_quantile(h, 0.999) / 1e3,
            (double)h->max_ns / 1e3);
}
