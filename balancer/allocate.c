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
 * Steps 1, 2, 3 (as each flow's cap) and 5 are here, 4 in fill.c; the sorts
 * and the heap are in order.c and order.h. fill.h and order.h are private
 * to balancer/.
 * Everything lives in the caller's scratch memory; no allocation, no globals.
 */
#include "balancer.h"
#include "fill.h"
#include "order.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* Where each array lives in the scratch memory. */
struct balancer__layout {
    size_t flows, by_key, by_arrival, by_rank, order, order_tmp, radix, radix_tmp, lo_order;
    size_t hi_order, ch_start, ch_members;
    size_t ch_block, ch_limits, ch_level, ch_full_at, heap, heap_pos, hist, total;
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
           && balancer__reserve(&t, &l->hist, BALANCER__HIST, sizeof(uint32_t))
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
        x->sort.by_rank[n_cand] = ~((uint32_t)c->priority ^ 0x80000000u); /* high priority first */
        x->sort.by_arrival[n_cand] = balancer__order_bits(c->arrival);
        x->sort.by_key[n_cand] = c->key;
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
    const uint32_t *order = balancer__priority_order(&x->sort, n_cand);
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
        .lo_order = (uint32_t *)(void *)(mem + lay.lo_order),
        .hi_order = (uint32_t *)(void *)(mem + lay.hi_order),
        .ch_start = (uint32_t *)(void *)(mem + lay.ch_start),
        .ch_members = (uint32_t *)(void *)(mem + lay.ch_members),
        .ch_block = (uint32_t *)(void *)(mem + lay.ch_block),
        .ch_limits = (struct balancer__limit *)(void *)(mem + lay.ch_limits),
        .ch_level = (double *)(void *)(mem + lay.ch_level),
        .ch_full_at = (double *)(void *)(mem + lay.ch_full_at),
        .heap = {
            .item = (uint32_t *)(void *)(mem + lay.heap),
            .pos = (uint32_t *)(void *)(mem + lay.heap_pos),
            .key = (const double *)(const void *)(mem + lay.ch_level),
        },
        .sort = {
            .by_key = (uint64_t *)(void *)(mem + lay.by_key),
            .by_arrival = (uint64_t *)(void *)(mem + lay.by_arrival),
            .by_rank = (uint64_t *)(void *)(mem + lay.by_rank),
            .order = (uint32_t *)(void *)(mem + lay.order),
            .order_tmp = (uint32_t *)(void *)(mem + lay.order_tmp),
            .radix = (uint64_t *)(void *)(mem + lay.radix),
            .radix_tmp = (uint64_t *)(void *)(mem + lay.radix_tmp),
            .hist = (uint32_t *)(void *)(mem + lay.hist),
        },
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
    balancer__fill(&x);
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
