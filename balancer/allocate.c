/* The allocation: minimums in priority order, then water-filling.
 *
 * The problem is a set of linear limits over the connectors' currents:
 *   - each site phase p:        sum of currents drawn on p          <= budget.phase_a[p]
 *   - the site total:           sum of current * phases              <= budget.total_w / V
 *   - each charger h, phase p:  sum of its connectors' currents on p <= charger.max_a
 *   - each connector:           0, or between its minimum and its effective max.
 *
 * 1. Uncontrollable draw (not-following and no-smart-charging connectors at
 *    max(max, draw); any draw measured on a connector without a car) is taken
 *    off every limit first: we cannot change it, so the others make room.
 * 2. Minimums, in priority (high first), arrival (early first), key order.
 *    A connector whose minimum does not fit in every limit it is part of is
 *    paused at 0 A; the next one is still tried (it may use another phase).
 *    So nobody ever gets a current strictly between 0 and their minimum.
 *    When every minimum fits at once, the order cannot matter and the sort
 *    is skipped.
 * 3. Lending: a CHARGING car with a known draw is capped at
 *    max(minimum, draw + headroom_a). The cap binds exactly when the car is
 *    offered more than draw + headroom_a, i.e. when it draws clearly less than
 *    it is offered; what it leaves is shared by step 4 among the others. This
 *    is the fixed point of "lend, then re-share" in one pass, and stateless:
 *    when the car draws more (up to the limit it was given), the next run sees
 *    it and gives it up to headroom_a more, run after run, until it no longer
 *    draws clearly less than its share. A larger headroom gives current back
 *    faster at the cost of more unused current.
 * 4. Water-filling (progressive filling, i.e. max-min fairness): one water
 *    level L rises; each connector holds clamp(L, min, max); when a limit
 *    becomes full every connector in it is frozen where it is. This is an
 *    event loop over the minimums in order (a connector starts rising), the
 *    maxes in order (it stops), the four site limits, and a heap of the
 *    charger limits keyed by the level at which each becomes full: O(n log n).
 *    Identical connectors rise and freeze together, so they end bit-for-bit
 *    equal.
 * 5. Every limit is floored to 0.1 A; connectors that got the same value get
 *    the same limit, and rounding down cannot break a budget.
 *
 * Everything lives in the caller's scratch memory; no allocation, no globals.
 */
#include "balancer.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* Float slack, in A, when checking that a minimum fits: sums of decimals
 * such as 0.1 are not exact in binary. */
#define BALANCER__EPS 1e-9
#define BALANCER__SITE_LIMITS (BALANCER_PHASES + 1) /* L1, L2, L3, total */
#define BALANCER__TOTAL BALANCER_PHASES
#define BALANCER__NONE UINT32_MAX

enum balancer__flow_state { BALANCER__WAITING, BALANCER__RISING, BALANCER__DONE };
enum balancer__stop { BALANCER__STOP_NONE, BALANCER__STOP_MAX, BALANCER__STOP_SITE,
                      BALANCER__STOP_CHARGER };

/* A connector that got its minimum and takes part in the water-filling. */
struct balancer__flow {
    double lo;          /* its minimum, a multiple of 0.1 A */
    double hi;          /* where it stops rising (effective max or lending cap), likewise */
    double value;       /* its current while not rising; where it ended */
    int32_t lo_da;      /* lo and hi in deci-amps, exactly */
    int32_t hi_da;
    uint32_t conn;      /* index into the input's connectors */
    uint32_t charger;
    uint32_t block;     /* its charger's limits are [3 * block + p] (block 0: no max) */
    uint8_t mask;       /* bit p: draws on site phase p */
    uint8_t weight;     /* number of phases: its weight in the total limit */
    uint8_t phase;      /* for weight 1: its site phase */
    uint8_t heap_mask;  /* bit p: its charger's limit on phase p can become full */
    uint8_t state;      /* enum balancer__flow_state */
    uint8_t stop;       /* enum balancer__stop: what stopped it */
    uint8_t lent;       /* hi is its lending cap, below its effective max */
    uint8_t reserve;    /* SUSPENDED_EV: holds its minimum only */
    uint8_t paused;     /* its minimum did not fit: takes no part */
};

/* One linear limit: the weighted sum of its members' currents <= cap. While
 * the level L rises its usage is fixed + slope * L. */
struct balancer__limit {
    double cap;
    double fixed;       /* weighted sum of the members that are not rising */
    double slope;       /* weighted count of the members that are rising */
};

/* Where each array lives in the scratch memory. */
struct balancer__layout {
    size_t flows, by_key, by_arrival, by_rank, order, order_tmp, radix, radix_tmp, lo_order;
    size_t hi_order, ch_start, ch_members;
    size_t ch_block, ch_limits, ch_level, ch_full_at, heap, heap_pos, hist, total;
};

/* The working state of one call. */
struct balancer__ctx {
    const struct balancer_input *in;
    struct balancer__flow *flows;
    uint32_t n_flows;
    uint32_t *lo_order, *hi_order;      /* flows by minimum / by max */
    uint32_t *ch_block;                 /* per charger: its block of 3 limits */
    uint32_t n_blocks;                  /* 1 + chargers with a max */
    uint32_t *ch_start, *ch_members;    /* flows grouped by block (CSR) */
    struct balancer__limit site[BALANCER__SITE_LIMITS];
    double site_full_at[BALANCER__SITE_LIMITS]; /* level it became full at, or INFINITY */
    struct balancer__limit *ch_limits;  /* 3 per block: [3 * block + p] */
    double *ch_level;                   /* level at which each charger limit will be full */
    double *ch_full_at;                 /* level it became full at, or INFINITY */
    uint32_t *heap, *heap_pos, heap_n;  /* charger limits that can become full */
    uint64_t *by_key, *by_arrival, *by_rank; /* per candidate: the priority order's keys */
    uint32_t *order, *order_tmp;             /* candidates in priority order */
    uint64_t *radix, *radix_tmp;            /* the lo and hi orders */
    uint32_t *hist;                         /* radix sort counts: 2048 */
    int32_t lo_min, lo_max, hi_min, hi_max; /* over the flows, in deci-amps */
    double used[BALANCER__SITE_LIMITS];     /* counted so far: per phase, A-phases */
    size_t n_paused, n_lent;
    enum balancer_binding binding;
    unsigned binding_mask;
};

/* ------------------------------------------------------------ helpers -- */

static bool balancer__is_active(enum balancer_state s)
{
    return s == BALANCER_PREPARING || s == BALANCER_CHARGING || s == BALANCER_SUSPENDED_EV
           || s == BALANCER_SUSPENDED_EVSE;
}

/* The highest known phase current; NAN if none is known. Negative readings
 * (meter noise) count as 0. */
static double balancer__draw(const struct balancer_connector *c)
{
    double draw = NAN;
    for (int p = 0; p < BALANCER_PHASES; p++) {
        double m = c->measured_a[p];
        if (!isfinite(m))
            continue;
        if (m < 0)
            m = 0;
        if (isnan(draw) || m > draw)
            draw = m;
    }
    return draw;
}

/* Deci-amps of a current clamped to +-100 MA (beyond any real connector), so
 * that absurd input such as an EV minimum of INFINITY stays in 32 bits. */
static double balancer__deci(double a)
{
    if (isnan(a))
        return 0;
    return (a > 1e8 ? 1e8 : a < -1e8 ? -1e8 : a) * 10.0;
}

/* Deci-amps, rounded down; the tiny slack keeps 16.0 computed as
 * 15.999999999999998 from becoming 15.9. Truncation instead of floor():
 * without SSE4.1 floor() is a library call, and this runs per connector. */
static int32_t balancer__floor_da(double a)
{
    double x = balancer__deci(a) + 1e-9;
    int32_t t = (int32_t)x;
    return (double)t > x ? t - 1 : t;
}

/* Deci-amps, rounded up (a minimum of 6.05 A becomes 6.1 A, so that a limit
 * floored to 0.1 A can never fall below it). */
static int32_t balancer__ceil_da(double a)
{
    double x = balancer__deci(a) - 1e-9;
    int32_t t = (int32_t)x;
    return (double)t < x ? t + 1 : t;
}

static uint8_t balancer__phase_mask(const struct balancer_connector *c)
{
    return c->phases == 3 ? 0x7 : (uint8_t)(1u << c->phase);
}

/* Maps a double to an unsigned integer in the same order (NAN last). */
static uint64_t balancer__order_bits(double v)
{
    if (isnan(v))
        return UINT64_MAX;
    if (v == 0)
        v = 0.0; /* -0.0 and 0.0 are equal */
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return (u & 0x8000000000000000u) ? ~u : (u | 0x8000000000000000u);
}

/* ------------------------------------------------------------ sorting -- */

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
static bool balancer__before(const struct balancer__ctx *x, uint32_t a, uint32_t b)
{
    if (x->by_rank[a] != x->by_rank[b])
        return x->by_rank[a] < x->by_rank[b];
    if (x->by_arrival[a] != x->by_arrival[b])
        return x->by_arrival[a] < x->by_arrival[b];
    if (x->by_key[a] != x->by_key[b])
        return x->by_key[a] < x->by_key[b];
    return a < b;
}

/* The candidates in priority order: priority (high first), arrival (early
 * first), key, index. Radix sorts, least significant field first (each is
 * stable, and the candidates start in index order), so ties of any kind
 * cost nothing and no comparison is left for the branch predictor to guess;
 * a handful of candidates is insertion-sorted instead. O(n). */
static const uint32_t *balancer__priority_order(struct balancer__ctx *x, size_t n)
{
    uint32_t *a = x->order;
    for (uint32_t i = 0; i < n; i++)
        a[i] = i;
    if (n <= 64) {
        for (size_t i = 1; i < n; i++) {
            uint32_t k = a[i];
            size_t j = i;
            while (j > 0 && balancer__before(x, k, a[j - 1])) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = k;
        }
        return a;
    }
    uint32_t *tmp = x->order_tmp;
    const uint64_t *fields[3] = { x->by_key, x->by_arrival, x->by_rank };
    for (int f = 0; f < 3; f++) {
        uint32_t *sorted = balancer__radix(x->hist, a, tmp, n, fields[f]);
        tmp = sorted == a ? tmp : a;
        a = sorted;
    }
    return a;
}

/* Fills order[] with the flows' indices sorted by lo (by_hi false) or hi,
 * ties in flow order. Both are whole deci-amps, so this is a stable radix
 * sort on (value - smallest): no pass at all when every value is equal
 * (typically every minimum is 6 A), one or two for real spreads. */
static void balancer__sort_flows(struct balancer__ctx *x, uint32_t *order, bool by_hi)
{
    uint32_t n = x->n_flows;
    const int bits = balancer__digit_bits(n);
    const uint32_t digits = 1u << bits, mask = digits - 1;
    int32_t lowest = by_hi ? x->hi_min : x->lo_min;
    uint32_t spread = (uint32_t)((by_hi ? x->hi_max : x->lo_max) - lowest);
    if (spread == 0) {
        for (uint32_t i = 0; i < n; i++)
            order[i] = i;
        return;
    }
    uint64_t *a = x->radix, *tmp = x->radix_tmp;
    for (uint32_t i = 0; i < n; i++) {
        int32_t da = by_hi ? x->flows[i].hi_da : x->flows[i].lo_da;
        a[i] = (uint64_t)(uint32_t)(da - lowest) << 32 | i;
    }
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
    uint32_t *count = x->hist;
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

/* -------------------------------------------- heap of charger limits -- */

static bool balancer__heap_less(const struct balancer__ctx *x, uint32_t a, uint32_t b)
{
    double la = x->ch_level[a], lb = x->ch_level[b];
    return la < lb || (la == lb && a < b);
}

static void balancer__heap_place(struct balancer__ctx *x, uint32_t pos, uint32_t id)
{
    x->heap[pos] = id;
    x->heap_pos[id] = pos;
}

/* Restores heap order around the limit id after its level changed. */
static void balancer__heap_fix(struct balancer__ctx *x, uint32_t id)
{
    uint32_t pos = x->heap_pos[id];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!balancer__heap_less(x, id, x->heap[parent]))
            break;
        balancer__heap_place(x, pos, x->heap[parent]);
        pos = parent;
    }
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= x->heap_n)
            break;
        if (child + 1 < x->heap_n && balancer__heap_less(x, x->heap[child + 1], x->heap[child]))
            child++;
        if (!balancer__heap_less(x, x->heap[child], id))
            break;
        balancer__heap_place(x, pos, x->heap[child]);
        pos = child;
    }
    balancer__heap_place(x, pos, id);
}

/* ------------------------------------------------------ water-filling -- */

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
        balancer__heap_fix(x, id);
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

static void balancer__bind(struct balancer__ctx *x, enum balancer_binding b)
{
    if (x->binding == BALANCER_BIND_NONE)
        x->binding = b;
    x->binding_mask |= BALANCER_BINDS(b);
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
    for (uint32_t k = 0, id = 0; k < x->heap_n; id++) {
        if (x->heap_pos[id] != BALANCER__NONE) {
            x->ch_level[id] = INFINITY;
            balancer__heap_place(x, k++, id);
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
        double e_ch = x->heap_n ? x->ch_level[x->heap[0]] : INFINITY;
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
            uint32_t id = x->heap[0];
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

/* ------------------------------------------------------------- layout -- */

/* Adds count items of size bytes at 16-byte alignment; false on overflow. */
static bool balancer__reserve(size_t *total, size_t *at, size_t count, size_t size)
{
    if (size && count > (SIZE_MAX - 15) / size)
        return false;
    size_t bytes = (count * size + 15) & ~(size_t)15;
    if (*total > SIZE_MAX - bytes)
        return false;
    *at = *total;
    *total += bytes;
    return true;
}

static bool balancer__plan(size_t n, size_t m, struct balancer__layout *l)
{
    if (n >= UINT32_MAX || m >= UINT32_MAX / 3)
        return false;
    size_t t = 0;
    return balancer__reserve(&t, &l->flows, n, sizeof(struct balancer__flow))
           && balancer__reserve(&t, &l->by_key, n, sizeof(uint64_t))
           && balancer__reserve(&t, &l->by_arrival, n, sizeof(uint64_t))
           && balancer__reserve(&t, &l->by_rank, n, sizeof(uint64_t))
           && balancer__reserve(&t, &l->order, n, sizeof(uint32_t))
           && balancer__reserve(&t, &l->order_tmp, n, sizeof(uint32_t))
           && balancer__reserve(&t, &l->radix, n, sizeof(uint64_t))
           && balancer__reserve(&t, &l->radix_tmp, n, sizeof(uint64_t))
           && balancer__reserve(&t, &l->lo_order, n, sizeof(uint32_t))
           && balancer__reserve(&t, &l->hi_order, n, sizeof(uint32_t))
           && balancer__reserve(&t, &l->ch_start, m + 2, sizeof(uint32_t)) /* per block */
           && balancer__reserve(&t, &l->ch_members, n, sizeof(uint32_t))
           && balancer__reserve(&t, &l->ch_block, m, sizeof(uint32_t))
           && balancer__reserve(&t, &l->ch_limits, 3 * (m + 1), sizeof(struct balancer__limit))
           && balancer__reserve(&t, &l->ch_level, 3 * (m + 1), sizeof(double))
           && balancer__reserve(&t, &l->ch_full_at, 3 * (m + 1), sizeof(double))
           && balancer__reserve(&t, &l->heap, 3 * (m + 1), sizeof(uint32_t))
           && balancer__reserve(&t, &l->heap_pos, 3 * (m + 1), sizeof(uint32_t))
           && balancer__reserve(&t, &l->hist, 2048, sizeof(uint32_t))
           && ((l->total = t), true);
}

size_t balancer_scratch_size(size_t n_connectors, size_t n_chargers)
{
    struct balancer__layout l;
    if (!balancer__plan(n_connectors, n_chargers, &l))
        return SIZE_MAX;
    return n_connectors == 0 && n_chargers == 0 ? 0 : l.total;
}

/* --------------------------------------------------------- validation -- */

/* int, not bool: it is combined with & below. */
static int balancer__valid_optional(double v)
{
    return (isnan(v) != 0) | (v >= 0); /* NAN: not set; +INF reads as not set too */
}

static bool balancer__valid_connector(const struct balancer_connector *c, size_t n_chargers)
{
    /* & rather than &&: all of it is cheap, and one predictable branch beats
     * eight data-dependent ones. */
    return ((unsigned)c->state < BALANCER_STATE_COUNT)
           & ((c->phases == 3) | ((c->phases == 1) & ((unsigned)c->phase < BALANCER_PHASES)))
           & (c->charger < n_chargers)
           & (isfinite(c->min_a) != 0) & (c->min_a >= 0)  /* isfinite: nonzero, not 1 */
           & (isfinite(c->max_a) != 0) & (c->max_a >= 0)
           & balancer__valid_optional(c->csms_limit_a)
           & balancer__valid_optional(c->ev_min_a)
           & balancer__valid_optional(c->ev_max_a);
}

/* NAN, negative: nothing (fail-safe). */
static double balancer__budget_value(double v)
{
    return v >= 0 ? v : 0.0;
}

/* --------------------------------------------------------- allocation -- */

/* Adds current to every limit a connector is part of (mask: its phases). */
static void balancer__take(struct balancer__ctx *x, uint8_t mask, int phases, uint32_t block,
                           double amps)
{
    /* Multiplied by the phase's bit rather than branched on: whether a
     * connector is single-phase is a coin toss to the branch predictor. */
    for (uint32_t p = 0; p < BALANCER_PHASES; p++) {
        double on = (double)((mask >> p) & 1u);
        x->site[p].fixed += amps * on;
        x->ch_limits[3 * block + p].fixed += amps * on;
    }
    x->site[BALANCER__TOTAL].fixed += amps * phases;
}

/* Step 2 for one connector: whether its minimum fits in every limit it is
 * part of; records which limits refused it. */
static bool balancer__min_fits(struct balancer__ctx *x, const struct balancer__flow *f)
{
    double lo = f->lo;
    unsigned site_over = 0, charger_over = 0;
    for (uint32_t p = 0; p < BALANCER_PHASES; p++) {
        unsigned on = (f->mask >> p) & 1u;
        const struct balancer__limit *l = &x->ch_limits[3 * f->block + p];
        site_over |= (on & (x->site[p].fixed + lo > x->site[p].cap + BALANCER__EPS)) << p;
        charger_over |= on & (l->fixed + lo > l->cap + BALANCER__EPS);
    }
    const struct balancer__limit *t = &x->site[BALANCER__TOTAL];
    site_over |= (unsigned)(t->fixed + lo * f->weight > t->cap + BALANCER__EPS * f->weight)
                 << BALANCER__TOTAL;
    if (!(site_over | charger_over))
        return true;
    for (int j = 0; j < BALANCER__SITE_LIMITS; j++)
        if (site_over & (1u << j))
            balancer__bind(x, (enum balancer_binding)(BALANCER_BIND_L1 + j));
    if (charger_over)
        x->binding_mask |= BALANCER_BINDS_CHARGER;
    return false;
}

/* A controlled connector's effective range in deci-amps: its minimum raised
 * by the EV's, its max lowered by the CSMS limit and the EV's max. A CSMS
 * limit below the minimum leaves an empty range, so the connector is paused:
 * per OCPP a limit under the minimum cannot be honoured above 0 A. */
static void balancer__range(const struct balancer_connector *c, int32_t *lo_da, int32_t *hi_da)
{
    double lo = c->min_a, hi = c->max_a;
    if (!isnan(c->ev_min_a) && c->ev_min_a > lo)
        lo = c->ev_min_a;
    if (!isnan(c->csms_limit_a) && c->csms_limit_a < hi)
        hi = c->csms_limit_a;
    if (!isnan(c->ev_max_a) && c->ev_max_a < hi)
        hi = c->ev_max_a;
    *lo_da = balancer__ceil_da(lo);
    *hi_da = balancer__floor_da(hi);
}

/* Where a connector draws: enough to add its result to the sums. */
struct balancer__where {
    uint32_t charger;
    uint8_t mask;
    uint8_t phases;
};

static struct balancer__where balancer__where_of(const struct balancer_connector *c)
{
    return (struct balancer__where){ c->charger, balancer__phase_mask(c), (uint8_t)c->phases };
}

static struct balancer__where balancer__flow_where(const struct balancer__flow *f)
{
    return (struct balancer__where){ f->charger, f->mask, f->weight };
}

/* Records a final result: the connector's output and its share of the sums. */
static void balancer__record(struct balancer__ctx *x, struct balancer_output *out, uint32_t i,
                             struct balancer__where w, enum balancer_status status, double limit,
                             double counted)
{
    struct balancer_allocation *a = &out->connectors[i];
    a->status = status;
    a->limit_a = limit;
    a->counted_a = counted;
    x->n_paused += status == BALANCER_PAUSED || status == BALANCER_PAUSED_BY_LIMIT;
    x->n_lent += status == BALANCER_LENT;
    struct balancer_charger_sum *sum = &out->chargers[w.charger];
    for (int p = 0; p < BALANCER_PHASES; p++) {
        double on = (double)((w.mask >> p) & 1u);
        x->used[p] += counted * on;
        sum->limit_a[p] += limit * on;
        sum->counted_a[p] += counted * on;
    }
    x->used[BALANCER__TOTAL] += counted * w.phases;
}

/* Step 1: results for every connector that will not get a minimum, the
 * uncontrollable draw taken off the limits, and a flow (not yet granted) for
 * each candidate, with its sort key. Returns the number of candidates. */
static uint32_t balancer__classify(struct balancer__ctx *x, struct balancer_output *out)
{
    const struct balancer_input *in = x->in;
    bool lending = in->headroom_a >= 0; /* NAN: off */
    uint32_t n_cand = 0;
    x->lo_min = x->hi_min = INT32_MAX;
    x->lo_max = x->hi_max = 0;
    for (uint32_t i = 0; i < in->n_connectors; i++) {
        const struct balancer_connector *c = &in->connectors[i];
        if (!balancer__valid_connector(c, in->n_chargers)) {
            out->summary.invalid_index = i;
            return UINT32_MAX;
        }
        double draw = balancer__draw(c);
        if (!balancer__is_active(c->state)) {
            /* No car, yet a measured draw: the meter is a moment behind or the
             * state is. It is drawing either way; count it. */
            double counted = draw > 0 ? draw : 0.0;
            balancer__record(x, out, i, balancer__where_of(c), BALANCER_NO_CAR, 0, counted);
            if (counted > 0)
                balancer__take(x, balancer__phase_mask(c), c->phases, x->ch_block[c->charger],
                               counted);
            continue;
        }
        out->summary.n_active++;
        if (c->not_following || c->no_smart_charging) {
            double counted = draw > c->max_a ? draw : c->max_a;
            balancer__record(x, out, i, balancer__where_of(c),
                             c->no_smart_charging ? BALANCER_NO_SMART : BALANCER_NOT_FOLLOWING,
                             (double)balancer__floor_da(c->max_a) / 10.0, /* no limit from us */
                             counted);
            balancer__take(x, balancer__phase_mask(c), c->phases, x->ch_block[c->charger],
                           counted);
            continue;
        }
        int32_t lo_da, hi_da;
        balancer__range(c, &lo_da, &hi_da);
        if (hi_da < lo_da || hi_da <= 0) {
            balancer__record(x, out, i, balancer__where_of(c), BALANCER_PAUSED_BY_LIMIT, 0, 0);
            continue;
        }
        bool reserve = c->state == BALANCER_SUSPENDED_EV;
        bool lent = false;
        if (reserve) {
            hi_da = lo_da;
        } else if (lending && c->state == BALANCER_CHARGING && !isnan(draw)) {
            int32_t keep_da = balancer__floor_da(draw + in->headroom_a);
            if (keep_da < lo_da)
                keep_da = lo_da;
            if (keep_da < hi_da) {
                hi_da = keep_da;
                lent = true;
            }
        }
        x->lo_min = lo_da < x->lo_min ? lo_da : x->lo_min;
        x->lo_max = lo_da > x->lo_max ? lo_da : x->lo_max;
        x->hi_min = hi_da < x->hi_min ? hi_da : x->hi_min;
        x->hi_max = hi_da > x->hi_max ? hi_da : x->hi_max;
        x->flows[n_cand] = (struct balancer__flow){
            .lo = (double)lo_da / 10.0,
            .hi = (double)hi_da / 10.0,
            .value = (double)lo_da / 10.0,
            .lo_da = lo_da,
            .hi_da = hi_da,
            .conn = i,
            .charger = c->charger,
            .block = x->ch_block[c->charger],
            .mask = balancer__phase_mask(c),
            .weight = (uint8_t)c->phases,
            .phase = (uint8_t)(c->phases == 3 ? 0 : c->phase),
            .lent = lent,
            .reserve = reserve,
        };
        x->by_rank[n_cand] = ~((uint32_t)c->priority ^ 0x80000000u); /* high priority first */
        x->by_arrival[n_cand] = balancer__order_bits(c->arrival);
        x->by_key[n_cand] = c->key;
        n_cand++;
    }
    return n_cand;
}

/* Whether some limit is over its cap. */
static bool balancer__over(const struct balancer__ctx *x)
{
    for (int j = 0; j < BALANCER__SITE_LIMITS; j++)
        if (x->site[j].fixed > x->site[j].cap + BALANCER__EPS)
            return true;
    for (uint32_t id = 0; id < 3 * x->n_blocks; id++)
        if (x->ch_limits[id].fixed > x->ch_limits[id].cap + BALANCER__EPS)
            return true;
    return false;
}

/* Step 2: grants minimums. First all at once: if they all fit, the order
 * cannot matter (the usual case). Otherwise, back to the state before, and
 * one by one in priority order; a candidate whose minimum does not fit is
 * paused, its flow marked done so that the water-filling skips it. */
static void balancer__minimums(struct balancer__ctx *x, struct balancer_output *out,
                               uint32_t n_cand)
{
    struct balancer__limit site[BALANCER__SITE_LIMITS];
    memcpy(site, x->site, sizeof site);
    double *saved = x->ch_level; /* scratch until the water-filling */
    for (uint32_t id = 0; id < 3 * x->n_blocks; id++)
        saved[id] = x->ch_limits[id].fixed;
    x->n_flows = n_cand;
    double sum[BALANCER__SITE_LIMITS] = { 0, 0, 0, 0 }; /* in registers, not through x */
    for (uint32_t k = 0; k < n_cand; k++) {
        const struct balancer__flow *f = &x->flows[k];
        for (uint32_t p = 0; p < BALANCER_PHASES; p++) {
            double lo = f->lo * (double)((f->mask >> p) & 1u);
            sum[p] += lo;
            x->ch_limits[3 * f->block + p].fixed += lo;
        }
        sum[BALANCER__TOTAL] += f->lo * f->weight;
    }
    for (int j = 0; j < BALANCER__SITE_LIMITS; j++)
        x->site[j].fixed += sum[j];
    if (!balancer__over(x))
        return;

    memcpy(x->site, site, sizeof site);
    for (uint32_t id = 0; id < 3 * x->n_blocks; id++)
        x->ch_limits[id].fixed = saved[id];
    const uint32_t *order = balancer__priority_order(x, n_cand);
    for (uint32_t k = 0; k < n_cand; k++) {
        struct balancer__flow *f = &x->flows[order[k]];
        if (!balancer__min_fits(x, f)) {
            balancer__record(x, out, f->conn, balancer__flow_where(f), BALANCER_PAUSED, 0, 0);
            f->state = BALANCER__DONE;
            f->paused = 1;
            continue;
        }
        balancer__take(x, f->mask, f->weight, f->block, f->lo);
    }
}

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
        x->heap_pos[id] = BALANCER__NONE;
    }
    for (uint32_t i = 0; i < x->n_flows; i++) {
        const struct balancer__flow *f = &x->flows[i];
        double room = f->paused ? 0.0 : f->hi - f->lo;
        for (uint32_t p = 0; p < BALANCER_PHASES; p++)
            reach[3 * f->block + p] += room * (double)((f->mask >> p) & 1u);
    }
    x->heap_n = 0;
    for (uint32_t id = 0; id < n_limits; id++)
        if (reach[id] > x->ch_limits[id].cap + BALANCER__EPS)
            x->heap_pos[id] = x->heap_n++;
    if (x->heap_n == 0)
        return;
    for (uint32_t i = 0; i < x->n_flows; i++) {
        struct balancer__flow *f = &x->flows[i];
        unsigned heap_mask = 0;
        for (uint32_t p = 0; p < BALANCER_PHASES; p++)
            heap_mask |= (((f->mask >> p) & 1u)
                          & (x->heap_pos[3 * f->block + p] != BALANCER__NONE)) << p;
        f->heap_mask = (uint8_t)heap_mask;
    }
}

/* Whether a limit the flow is part of became full at the level where the
 * flow stopped: then the budget held it there as much as its own cap did. */
static bool balancer__held_anyway(const struct balancer__ctx *x, const struct balancer__flow *f)
{
    double at = f->value + BALANCER__EPS;
    if (x->site_full_at[BALANCER__TOTAL] <= at)
        return true;
    for (int p = 0; p < BALANCER_PHASES; p++)
        if ((f->mask & (1u << p))
            && (x->site_full_at[p] <= at || x->ch_full_at[3 * f->block + (uint32_t)p] <= at))
            return true;
    return false;
}

/* The status of a granted flow. A lent car that stopped at its lending cap
 * exactly where a limit became full lent nothing: it is reported as shared. */
static enum balancer_status balancer__flow_status(const struct balancer__ctx *x,
                                                  const struct balancer__flow *f, int32_t da)
{
    bool above_min = da > f->lo_da;
    if (f->reserve)
        return BALANCER_AT_MIN;
    if (f->stop == BALANCER__STOP_MAX && f->lent)
        return balancer__held_anyway(x, f) ? (above_min ? BALANCER_SHARED : BALANCER_AT_MIN)
                                           : BALANCER_LENT;
    if (f->stop == BALANCER__STOP_SITE)
        return above_min ? BALANCER_SHARED : BALANCER_AT_MIN;
    if (f->stop == BALANCER__STOP_CHARGER)
        return above_min ? BALANCER_CAPPED_BY_CHARGER : BALANCER_AT_MIN;
    return BALANCER_CAPPED_BY_MAX;
}

/* Step 5: the granted flows' limits and statuses, and the summary. */
static void balancer__finish(struct balancer__ctx *x, struct balancer_output *out)
{
    for (uint32_t i = 0; i < x->n_flows; i++) {
        const struct balancer__flow *f = &x->flows[i];
        if (f->paused)
            continue;
        int32_t da = balancer__floor_da(f->value);
        da = da < f->lo_da ? f->lo_da : da > f->hi_da ? f->hi_da : da;
        double limit = (double)da / 10.0;
        balancer__record(x, out, f->conn, balancer__flow_where(f), balancer__flow_status(x, f, da),
                         limit, limit);
    }
    struct balancer_summary *s = &out->summary;
    for (int p = 0; p < BALANCER_PHASES; p++)
        s->used_a[p] = x->used[p];
    s->used_w = x->used[BALANCER__TOTAL] * x->in->voltage_v;
    s->n_paused = x->n_paused;
    s->n_lent = x->n_lent;
    s->binding = x->binding;
    s->binding_mask = x->binding_mask;
}

/* Checks what is not per connector (connectors are checked as they are
 * read, to save a pass over them). */
static int balancer__validate(const struct balancer_input *in)
{
    if (!isfinite(in->voltage_v) || in->voltage_v <= 0)
        return -EINVAL;
    if (!isnan(in->headroom_a) && !(isfinite(in->headroom_a) && in->headroom_a >= 0))
        return -EINVAL;
    for (size_t h = 0; h < in->n_chargers; h++)
        if (!balancer__valid_optional(in->chargers[h].max_a))
            return -EINVAL;
    return 0;
}

int balancer_allocate(const struct balancer_input *in, struct balancer_output *out,
                      void *scratch, size_t scratch_size)
{
    if (!in || !out || (in->n_connectors && (!in->connectors || !out->connectors))
        || (in->n_chargers && (!in->chargers || !out->chargers)))
        return -EINVAL;
    size_t n = in->n_connectors, m = in->n_chargers;
    /* Zero everything first, padding included: equal input must give
     * byte-identical output. */
    if (n)
        memset(out->connectors, 0, n * sizeof *out->connectors);
    if (m)
        memset(out->chargers, 0, m * sizeof *out->chargers);
    memset(&out->summary, 0, sizeof out->summary);
    out->summary.invalid_index = SIZE_MAX;

    struct balancer__layout lay;
    if (!balancer__plan(n, m, &lay))
        return -EINVAL;
    size_t need = balancer_scratch_size(n, m);
    if (need > scratch_size || (need && !scratch))
        return -ENOBUFS;
    int rc = balancer__validate(in);
    if (rc != 0 || n == 0)
        return rc;

    unsigned char *mem = scratch;
    struct balancer__ctx x = {
        .in = in,
        .flows = (struct balancer__flow *)(void *)(mem + lay.flows),
        .by_key = (uint64_t *)(void *)(mem + lay.by_key),
        .by_arrival = (uint64_t *)(void *)(mem + lay.by_arrival),
        .by_rank = (uint64_t *)(void *)(mem + lay.by_rank),
        .order = (uint32_t *)(void *)(mem + lay.order),
        .order_tmp = (uint32_t *)(void *)(mem + lay.order_tmp),
        .radix = (uint64_t *)(void *)(mem + lay.radix),
        .radix_tmp = (uint64_t *)(void *)(mem + lay.radix_tmp),
        .lo_order = (uint32_t *)(void *)(mem + lay.lo_order),
        .hi_order = (uint32_t *)(void *)(mem + lay.hi_order),
        .ch_start = (uint32_t *)(void *)(mem + lay.ch_start),
        .ch_members = (uint32_t *)(void *)(mem + lay.ch_members),
        .ch_block = (uint32_t *)(void *)(mem + lay.ch_block),
        .ch_limits = (struct balancer__limit *)(void *)(mem + lay.ch_limits),
        .ch_level = (double *)(void *)(mem + lay.ch_level),
        .ch_full_at = (double *)(void *)(mem + lay.ch_full_at),
        .heap = (uint32_t *)(void *)(mem + lay.heap),
        .heap_pos = (uint32_t *)(void *)(mem + lay.heap_pos),
        .hist = (uint32_t *)(void *)(mem + lay.hist),
    };
    for (int j = 0; j < BALANCER__SITE_LIMITS; j++)
        x.site_full_at[j] = INFINITY;
    for (int p = 0; p < BALANCER_PHASES; p++)
        x.site[p].cap = balancer__budget_value(in->budget.phase_a[p]);
    /* The total limit in "phase-amps": W / V = sum of current * phases. */
    x.site[BALANCER__TOTAL].cap = balancer__budget_value(in->budget.total_w) / in->voltage_v;
    /* Only chargers with a max get limits of their own; all the others share
     * block 0, whose cap is infinite: it never fills, never enters the heap,
     * and spares every per-connector step a branch on "has a max". */
    for (uint32_t p = 0; p < BALANCER_PHASES; p++)
        x.ch_limits[p] = (struct balancer__limit){ INFINITY, 0, 0 };
    x.n_blocks = 1;
    for (size_t h = 0; h < m; h++) {
        double cap = in->chargers[h].max_a;
        if (isnan(cap) || cap == INFINITY) {
            x.ch_block[h] = 0;
            continue;
        }
        x.ch_block[h] = x.n_blocks;
        for (uint32_t p = 0; p < BALANCER_PHASES; p++)
            x.ch_limits[3 * x.n_blocks + p] = (struct balancer__limit){ cap, 0, 0 };
        x.n_blocks++;
    }

    uint32_t n_cand = balancer__classify(&x, out);
    if (n_cand == UINT32_MAX) {
        size_t bad = out->summary.invalid_index;
        memset(out->connectors, 0, n * sizeof *out->connectors);
        if (m)
            memset(out->chargers, 0, m * sizeof *out->chargers);
        memset(&out->summary, 0, sizeof out->summary);
        out->summary.invalid_index = bad;
        return -EINVAL;
    }
    out->summary.overcommitted = balancer__over(&x);
    balancer__minimums(&x, out, n_cand);
    balancer__pick_charger_limits(&x);
    if (x.heap_n)
        balancer__group_by_charger(&x); /* only charger limits that can fill need it */
    balancer__sort_flows(&x, x.lo_order, false);
    balancer__sort_flows(&x, x.hi_order, true);
    balancer__water_fill(&x);
    balancer__finish(&x, out);
    return 0;
}

void balancer_connector_init(struct balancer_connector *c)
{
    memset(c, 0, sizeof *c);
    c->state = BALANCER_AVAILABLE;
    c->phases = 3;
    c->phase = BALANCER_L1;
    c->min_a = 6.0; /* IEC 61851: the lowest current a car can charge at */
    c->max_a = 0.0;
    c->arrival = NAN;
    for (int p = 0; p < BALANCER_PHASES; p++)
        c->measured_a[p] = NAN;
    c->csms_limit_a = NAN;
    c->ev_min_a = NAN;
    c->ev_max_a = NAN;
}

const char *balancer_status_name(enum balancer_status status)
{
    static const char *const names[BALANCER_STATUS_COUNT] = {
        [BALANCER_NO_CAR] = "no_car",
        [BALANCER_PAUSED] = "paused",
        [BALANCER_PAUSED_BY_LIMIT] = "paused_by_limit",
        [BALANCER_AT_MIN] = "at_min",
        [BALANCER_SHARED] = "shared",
        [BALANCER_CAPPED_BY_MAX] = "capped_by_max",
        [BALANCER_CAPPED_BY_CHARGER] = "capped_by_charger",
        [BALANCER_LENT] = "lent",
        [BALANCER_NOT_FOLLOWING] = "not_following",
        [BALANCER_NO_SMART] = "no_smart_charging",
    };
    return (unsigned)status < BALANCER_STATUS_COUNT ? names[status] : "unknown";
}

const char *balancer_binding_name(enum balancer_binding binding)
{
    static const char *const names[BALANCER_BIND_COUNT] = {
        [BALANCER_BIND_NONE] = "none",
        [BALANCER_BIND_L1] = "phase_l1",
        [BALANCER_BIND_L2] = "phase_l2",
        [BALANCER_BIND_L3] = "phase_l3",
        [BALANCER_BIND_TOTAL] = "total",
    };
    return (unsigned)binding < BALANCER_BIND_COUNT ? names[binding] : "unknown";
}

const char *balancer_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case -EINVAL: return "invalid balancer input";
    case -ENOBUFS: return "balancer scratch buffer too small";
    default: return "unknown balancer error";
    }
}
