/* Step 4 of the allocation (see allocate.c): water-filling from the state
 * after the minimums; a lent flow simply stops at its lending cap. The
 * event loop takes, at each step, the lowest of: the next minimum (a flow
 * starts rising), the next max (it stops), the level at which a site limit
 * becomes full, and the top of the heap of charger limits that can become
 * full.
 */
#include "fill.h"

#include "order.h"

#include <math.h>
#include <string.h>

/* Groups the flows of chargers with a max by charger (counting sort; flow
 * order kept), for freezing a charger's connectors when its limit is full. */
static void balancer__group_by_charger(struct balancer__ctx *x)
{
    uint32_t nb = x->n_blocks;
    memset(x->ch_start, 0, (nb + 1) * sizeof *x->ch_start);
    for (uint32_t i = 0; i < x->n_flows; i++)
        x->ch_start[x->flows[i].block + 1]++;
    for (uint32_t b = 0; b < nb; b++)
        x->ch_start[b + 1] += x->ch_start[b];
    for (uint32_t i = 0; i < x->n_flows; i++)
        x->ch_members[x->ch_start[x->flows[i].block]++] = i;
    /* Each start now holds the next group's start: shift back. */
    for (uint32_t b = nb; b > 0; b--)
        x->ch_start[b] = x->ch_start[b - 1];
    x->ch_start[0] = 0;
}

/* Puts in the heap only the charger limits that can become full: one whose
 * members' maxes (plus what it cannot control) fit under it never binds, which
 * is most of them (one connector under its charger's rating, two 16 A
 * connectors on a 32 A charger), and leaving those out keeps the event loop
 * lean. */
static void balancer__pick_charger_limits(struct balancer__ctx *x)
{
    uint32_t n_limits = 3 * x->n_blocks;
    double *reach = x->ch_level; /* scratch until the water-filling */
    for (uint32_t id = 0; id < n_limits; id++) {
        reach[id] = x->ch_limits[id].fixed;
        x->ch_full_at[id] = INFINITY;
        x->heap.pos[id] = BALANCER__NONE;
    }
    for (uint32_t i = 0; i < x->n_flows; i++) {
        const struct balancer__flow *f = &x->flows[i];
        double room = f->paused ? 0.0 : f->hi - f->lo;
        for (uint32_t p = 0; p < BALANCER_PHASES; p++)
            reach[3 * f->block + p] += room * (double)((f->mask >> p) & 1u);
    }
    x->heap.n = 0;
    for (uint32_t id = 0; id < n_limits; id++)
        if (reach[id] > x->ch_limits[id].cap + BALANCER__EPS)
            x->heap.pos[id] = x->heap.n++;
    if (x->heap.n == 0)
        return;
    for (uint32_t i = 0; i < x->n_flows; i++) {
        struct balancer__flow *f = &x->flows[i];
        unsigned heap_mask = 0;
        for (uint32_t p = 0; p < BALANCER_PHASES; p++)
            heap_mask |= (((f->mask >> p) & 1u)
                          & (x->heap.pos[3 * f->block + p] != BALANCER__NONE)) << p;
        f->heap_mask = (uint8_t)heap_mask;
    }
}

/* Fills order[] with the flows' indices sorted by lo (by_hi false) or hi,
 * ties in flow order. Both are whole deci-amps, so this is a stable radix
 * sort on (value - smallest): no pass at all when every value is equal
 * (typically every minimum is 6 A), one or two for real spreads. */
static void balancer__sort_flows(struct balancer__ctx *x, uint32_t *order, bool by_hi)
{
    uint32_t n = x->n_flows;
    int32_t lowest = by_hi ? x->hi_min : x->lo_min;
    uint32_t spread = (uint32_t)((by_hi ? x->hi_max : x->lo_max) - lowest);
    if (spread == 0) {
        for (uint32_t i = 0; i < n; i++)
            order[i] = i;
        return;
    }
    uint64_t *a = x->sort.radix;
    for (uint32_t i = 0; i < n; i++) {
        int32_t da = by_hi ? x->flows[i].hi_da : x->flows[i].lo_da;
        a[i] = (uint64_t)(uint32_t)(da - lowest) << 32 | i;
    }
    balancer__sort_packed(&x->sort, n, spread, order);
}

/* The level at which a limit becomes full; INFINITY if it never will. */
static double balancer__full_level(const struct balancer__limit *l)
{
    if (l->slope <= 0 || l->cap == INFINITY)
        return INFINITY;
    return (l->cap - l->fixed) / l->slope;
}

/* The charger half of balancer__flow_slope, for the few flows whose
 * charger limit can become full. */
static void balancer__charger_slope(struct balancer__ctx *x, const struct balancer__flow *f,
                                    double dfixed, double dslope)
{
    for (uint32_t p = 0; p < BALANCER_PHASES; p++) {
        if (!(f->heap_mask & (1u << p)))
            continue;
        uint32_t id = 3 * f->block + p;
        struct balancer__limit *l = &x->ch_limits[id];
        l->fixed += dfixed;
        l->slope += dslope;
        x->ch_level[id] = balancer__full_level(l);
        balancer__heap_fix(&x->heap, id);
    }
}

/* The change to the four site limits from one event of the water-filling.
 * Every flow in an event starts or stops at the same level, so the changes
 * add up in locals and reach the limits once per event, not once per flow. */
struct balancer__delta {
    double fixed[BALANCER__SITE_LIMITS];
    double slope[BALANCER__SITE_LIMITS];
};

/* Adds (sign +1) or removes (-1) a rising flow's slope, moving its current
 * value out of or into the fixed part: in the event's site delta, and at
 * once in its charger limits that can become full. */
static void balancer__flow_slope(struct balancer__ctx *x, struct balancer__delta *d,
                                 const struct balancer__flow *f, double value, int sign)
{
    double dfixed = sign > 0 ? -value : value, dslope = sign > 0 ? 1.0 : -1.0;
    for (int p = 0; p < BALANCER_PHASES; p++) {
        double on = (double)((f->mask >> p) & 1u); /* no branch on the phases */
        d->fixed[p] += dfixed * on;
        d->slope[p] += dslope * on;
    }
    d->fixed[BALANCER__TOTAL] += dfixed * f->weight;
    d->slope[BALANCER__TOTAL] += dslope * f->weight;
    if (f->heap_mask)
        balancer__charger_slope(x, f, dfixed, dslope);
}

static void balancer__apply(struct balancer__ctx *x, const struct balancer__delta *d)
{
    for (int j = 0; j < BALANCER__SITE_LIMITS; j++) {
        x->site[j].fixed += d->fixed[j];
        x->site[j].slope += d->slope[j];
    }
}

static void balancer__start(struct balancer__ctx *x, struct balancer__delta *d,
                            struct balancer__flow *f)
{
    balancer__flow_slope(x, d, f, f->lo, +1);
    f->state = BALANCER__RISING;
}

/* Freezes a flow at the level (or at its minimum if it has not started). */
static void balancer__stop(struct balancer__ctx *x, struct balancer__delta *d,
                           struct balancer__flow *f, double level, enum balancer__stop why)
{
    if (f->state == BALANCER__RISING) {
        f->value = level < f->hi ? level : f->hi;
        balancer__flow_slope(x, d, f, f->value, -1);
    }
    f->state = BALANCER__DONE;
    f->stop = (uint8_t)why;
}

/* The first site limit to become full at or below level e, and where; -1
 * if none does. Divides only for a limit that does fill by then. */
static int balancer__next_site_full(const struct balancer__ctx *x, double e, double *at)
{
    int first = -1;
    *at = INFINITY;
    for (int j = 0; j < BALANCER__SITE_LIMITS; j++) {
        const struct balancer__limit *l = &x->site[j];
        if (l->slope <= 0 || l->cap == INFINITY || l->fixed + l->slope * e < l->cap)
            continue;
        double t = balancer__full_level(l);
        if (t < *at) {
            *at = t;
            first = j;
        }
    }
    return first;
}

/* Step 4: progressive filling from the state after the minimums. */
static void balancer__water_fill(struct balancer__ctx *x)
{
    uint32_t n = x->n_flows;
    /* Every level starts at INFINITY, so any order is a heap: use the id order. */
    for (uint32_t k = 0, id = 0; k < x->heap.n; id++) {
        if (x->heap.pos[id] != BALANCER__NONE) {
            x->ch_level[id] = INFINITY;
            balancer__heap_place(&x->heap, k++, id);
        }
    }
    double level = 0;
    uint32_t next_lo = 0, next_hi = 0;
    /* Every event starts or stops at least one flow, or fills a limit (each
     * at most once): at most 2n + 3 * blocks + 4 events. The bound only
     * guards against a future bug hanging the gateway's loop; a flow left
     * where it was when it stopped still fits every budget. */
    uint64_t events_left = 2 * (uint64_t)n + 3 * (uint64_t)x->n_blocks + 8;
    while (events_left-- > 0) {
        while (next_lo < n && x->flows[x->lo_order[next_lo]].state != BALANCER__WAITING)
            next_lo++;
        while (next_hi < n && x->flows[x->hi_order[next_hi]].state == BALANCER__DONE)
            next_hi++;
        double e_lo = next_lo < n ? x->flows[x->lo_order[next_lo]].lo : INFINITY;
        double e_hi = next_hi < n ? x->flows[x->hi_order[next_hi]].hi : INFINITY;
        double e_ch = x->heap.n ? x->ch_level[x->heap.item[0]] : INFINITY;
        double e = fmin(fmin(e_lo, e_hi), e_ch);
        double e_site;
        int site_j = balancer__next_site_full(x, e, &e_site);
        e = fmin(e, e_site);
        if (e == INFINITY)
            break;
        if (e > level)
            level = e; /* float noise can put a full level a hair below L: never go back */

        /* At one level: start before stopping (a flow with lo == hi starts and
         * stops at once), caps before full limits (a car that reached its max
         * is reported so, not as held back). */
        struct balancer__delta d = { { 0, 0, 0, 0 }, { 0, 0, 0, 0 } };
        if (e_lo <= level) {
            while (next_lo < n && x->flows[x->lo_order[next_lo]].lo <= level) {
                struct balancer__flow *f = &x->flows[x->lo_order[next_lo++]];
                if (f->state == BALANCER__WAITING)
                    balancer__start(x, &d, f);
            }
        } else if (e_hi <= level) {
            while (next_hi < n && x->flows[x->hi_order[next_hi]].hi <= level) {
                struct balancer__flow *f = &x->flows[x->hi_order[next_hi++]];
                if (f->state == BALANCER__RISING)
                    balancer__stop(x, &d, f, f->hi, BALANCER__STOP_MAX);
            }
        } else if (site_j >= 0 && e_site <= e_ch) {
            /* A site limit is full: freeze everyone in it (at most four times
             * per call, so the linear scan is fine). */
            uint8_t bit = site_j == BALANCER__TOTAL ? 0x7 : (uint8_t)(1u << site_j);
            for (uint32_t i = 0; i < n; i++) {
                struct balancer__flow *f = &x->flows[i];
                if (f->state != BALANCER__DONE && (f->mask & bit))
                    balancer__stop(x, &d, f, level, BALANCER__STOP_SITE);
            }
            x->site_full_at[site_j] = level;
            balancer__bind(x, (enum balancer_binding)(BALANCER_BIND_L1 + site_j));
        } else {
            uint32_t id = x->heap.item[0];
            uint32_t b = id / 3, bit = 1u << (id % 3);
            for (uint32_t k = x->ch_start[b]; k < x->ch_start[b + 1]; k++) {
                struct balancer__flow *f = &x->flows[x->ch_members[k]];
                if (f->state != BALANCER__DONE && (f->mask & bit))
                    balancer__stop(x, &d, f, level, BALANCER__STOP_CHARGER);
            }
            x->ch_full_at[id] = level;
            x->binding_mask |= BALANCER_BINDS_CHARGER;
        }
        balancer__apply(x, &d);
    }
}

void balancer__fill(struct balancer__ctx *x)
{
    balancer__pick_charger_limits(x);
    if (x->heap.n)
        balancer__group_by_charger(x); /* only charger limits that can fill need it */
    balancer__sort_flows(x, x->lo_order, false);
    balancer__sort_flows(x, x->hi_order, true);
    balancer__water_fill(x);
}
