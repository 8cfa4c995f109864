/* Ordering for the allocator: LSD radix sorts (stable, O(n), no comparison
 * for the branch predictor to guess), insertion sort for a handful. The heap
 * is inline in order.h: the water-filling's event loop calls it per flow.
 */
#include "order.h"

#include <string.h>

/* Radix digit width: wide digits mean fewer passes, but each pass clears a
 * table of 2^bits counters, which only pays off for many elements. */
static int balancer__digit_bits(size_t n)
{
    return n < 512 ? 8 : 11;
}

/* One stable LSD radix sort of the indices in a[] by val[index], over only
 * the bits in which the values differ (none: no pass). Returns the buffer
 * that holds the result. */
static uint32_t *balancer__radix(uint32_t *count, uint32_t *a, uint32_t *tmp, size_t n,
                                 const uint64_t *val)
{
    const int bits = balancer__digit_bits(n);
    const uint32_t digits = 1u << bits, mask = digits - 1;
    uint64_t any = 0, all = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        any |= val[i];
        all &= val[i];
    }
    uint64_t differ = any ^ all;
    int low = 0;
    while (low < 64 && !((differ >> low) & 1))
        low++;
    for (int shift = low; shift < 64 && (differ >> shift) != 0; shift += bits) {
        memset(count, 0, digits * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[(val[a[i]] >> shift) & mask]++;
        for (uint32_t v = 0, sum = 0; v < digits; v++) {
            uint32_t c = count[v];
            count[v] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[(val[a[i]] >> shift) & mask]++] = a[i];
        uint32_t *swap = a;
        a = tmp;
        tmp = swap;
    }
    return a;
}

/* Candidate a before candidate b in priority order. */
static bool balancer__before(const struct balancer__sort *s, uint32_t a, uint32_t b)
{
    if (s->by_rank[a] != s->by_rank[b])
        return s->by_rank[a] < s->by_rank[b];
    if (s->by_arrival[a] != s->by_arrival[b])
        return s->by_arrival[a] < s->by_arrival[b];
    if (s->by_key[a] != s->by_key[b])
        return s->by_key[a] < s->by_key[b];
    return a < b;
}

/* Radix sorts, least significant field first (each is stable, and the
 * candidates start in index order), so ties of any kind cost nothing; a
 * handful of candidates is insertion-sorted instead. */
const uint32_t *balancer__priority_order(const struct balancer__sort *s, size_t n)
{
    uint32_t *a = s->order;
    for (uint32_t i = 0; i < n; i++)
        a[i] = i;
    if (n <= 64) {
        for (size_t i = 1; i < n; i++) {
            uint32_t k = a[i];
            size_t j = i;
            while (j > 0 && balancer__before(s, k, a[j - 1])) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = k;
        }
        return a;
    }
    uint32_t *tmp = s->order_tmp;
    const uint64_t *fields[3] = { s->by_key, s->by_arrival, s->by_rank };
    for (int f = 0; f < 3; f++) {
        uint32_t *sorted = balancer__radix(s->hist, a, tmp, n, fields[f]);
        tmp = sorted == a ? tmp : a;
        a = sorted;
    }
    return a;
}

void balancer__sort_packed(const struct balancer__sort *s, uint32_t n, uint32_t spread,
                           uint32_t *order)
{
    const int bits = balancer__digit_bits(n);
    const uint32_t digits = 1u << bits, mask = digits - 1;
    uint64_t *a = s->radix, *tmp = s->radix_tmp;
    if (n <= 64) { /* a handful: insertion sort on (value, index) */
        for (uint32_t i = 1; i < n; i++) {
            uint64_t k = a[i];
            uint32_t j = i;
            while (j > 0 && k < a[j - 1]) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = k;
        }
        spread = 0;
    }
    uint32_t *count = s->hist;
    for (int shift = 32; shift < 64 && (spread >> (shift - 32)) != 0; shift += bits) {
        memset(count, 0, digits * sizeof *count);
        for (uint32_t i = 0; i < n; i++)
            count[(a[i] >> shift) & mask]++;
        for (uint32_t v = 0, sum = 0; v < digits; v++) {
            uint32_t c = count[v];
            count[v] = sum;
            sum += c;
        }
        for (uint32_t i = 0; i < n; i++)
            tmp[count[(a[i] >> shift) & mask]++] = a[i];
        uint64_t *swap = a;
        a = tmp;
        tmp = swap;
    }
    for (uint32_t i = 0; i < n; i++)
        order[i] = (uint32_t)a[i];
}
