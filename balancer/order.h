/* Ordering for the allocator, private to balancer/ (not part of its face,
 * balancer.h): the priority order in which candidates get their minimums,
 * stable radix sorts of small integers, and the heap of charger limits
 * keyed by the water level at which each becomes full.
 *
 * None of it knows about connectors or budgets: it orders indices by keys
 * the caller prepared, in buffers the caller owns (the allocator's scratch
 * memory). Nothing allocates.
 */
#ifndef SITEGATE_BALANCER_ORDER_H
#define SITEGATE_BALANCER_ORDER_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* No index: an id that is not in the heap. */
#define BALANCER__NONE UINT32_MAX

/* uint32_t counters the radix sorts need: one per value of the widest digit
 * (11 bits). */
#define BALANCER__HIST 2048

/* Maps a double to an unsigned integer in the same order (NAN last). Inline:
 * it runs once per candidate. */
static inline uint64_t balancer__order_bits(double v)
{
    if (isnan(v))
        return UINT64_MAX;
    if (v == 0)
        v = 0.0; /* -0.0 and 0.0 are equal */
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return (u & 0x8000000000000000u) ? ~u : (u | 0x8000000000000000u);
}

/* Buffers of the sorts, each with room for every candidate. */
struct balancer__sort {
    uint64_t *by_key, *by_arrival, *by_rank; /* per candidate: the priority order's keys */
    uint32_t *order, *order_tmp;             /* candidates in priority order */
    uint64_t *radix, *radix_tmp;             /* (value << 32 | index) pairs */
    uint32_t *hist;                          /* radix sort counts: BALANCER__HIST */
};

/* The candidates 0..n-1 in priority order: by_rank, by_arrival, by_key
 * (each smallest first), then index. Returns order or order_tmp, whichever
 * holds the result. O(n). */
const uint32_t *balancer__priority_order(const struct balancer__sort *s, size_t n);

/* Sorts the pairs s->radix[0..n), each (value << 32 | index) with value in
 * [0, spread], by value, ties in the order given (stable), and writes their
 * indices to order[0..n). Radix passes over the bits spread needs only. */
void balancer__sort_packed(const struct balancer__sort *s, uint32_t n, uint32_t spread,
                           uint32_t *order);

/* A binary min-heap of ids keyed by key[id], ties by id. */
struct balancer__heap {
    uint32_t *item;     /* ids in heap order */
    uint32_t *pos;      /* per id: its place in item, BALANCER__NONE if not in the heap */
    uint32_t n;
    const double *key;
};

/* Puts id at place pos, without restoring heap order. */
static inline void balancer__heap_place(struct balancer__heap *h, uint32_t pos, uint32_t id)
{
    h->item[pos] = id;
    h->pos[id] = pos;
}

static inline bool balancer__heap_less(const struct balancer__heap *h, uint32_t a, uint32_t b)
{
    double ka = h->key[a], kb = h->key[b];
    return ka < kb || (ka == kb && a < b);
}

/* Restores heap order around id after its key changed. Inline: it runs for
 * every start and stop of a flow whose charger limit can become full. */
static inline void balancer__heap_fix(struct balancer__heap *h, uint32_t id)
{
    uint32_t pos = h->pos[id];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!balancer__heap_less(h, id, h->item[parent]))
            break;
        balancer__heap_place(h, pos, h->item[parent]);
        pos = parent;
    }
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n && balancer__heap_less(h, h->item[child + 1], h->item[child]))
            child++;
        if (!balancer__heap_less(h, h->item[child], id))
            break;
        balancer__heap_place(h, pos, h->item[child]);
        pos = child;
    }
    balancer__heap_place(h, pos, id);
}

#endif
