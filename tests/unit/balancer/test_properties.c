/* Randomized properties of the allocator over thousands of generated sites.
 *
 * Each property is checked on every site from fixed seeds (a failure prints
 * the seed and site number, so it can be replayed). Sites have 0-200
 * connectors on chargers of 1-4 connectors, random phases, minimums,
 * maxes, priorities, arrivals, draws, CSMS and EV limits, states, flags and
 * budgets, and groups of identical connectors for the equal-share property.
 */
#include "balancer.h"
#include "test.h"

#include <stdint.h>

#define V 230.0
#define MAXN 200
#define SITES 5000
#define TOL 1e-6 /* A: float noise on sums of up to 200 currents */

/* xorshift64*: small, fast, and the same sequence everywhere. */
struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Du;
}

/* Uniform in [0, n). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
    return (uint32_t)((rng_next(r) >> 32) % n);
}

/* Uniform in [lo, hi), in steps of 0.1 when decimal. */
static double rng_amps(struct rng *r, double lo, double hi)
{
    return lo + (double)rng_below(r, (uint32_t)((hi - lo) * 10)) / 10.0;
}

/* True with probability pct percent. */
static bool rng_pct(struct rng *r, uint32_t pct)
{
    return rng_below(r, 100) < pct;
}

struct site {
    struct balancer_connector c[MAXN];
    struct balancer_charger ch[MAXN];
    uint32_t group[MAXN];        /* connectors with the same group (> 0) are identical */
    struct balancer_input in;
    size_t n, m;
};

struct result {
    struct balancer_allocation a[MAXN];
    struct balancer_charger_sum sum[MAXN];
    struct balancer_output out;
};

static unsigned char scratch[64 * 1024];

static const enum balancer_state states[] = {
    BALANCER_CHARGING, BALANCER_CHARGING, BALANCER_CHARGING, BALANCER_CHARGING,
    BALANCER_PREPARING, BALANCER_SUSPENDED_EV, BALANCER_SUSPENDED_EVSE,
    BALANCER_AVAILABLE, BALANCER_FINISHING, BALANCER_FAULTED, BALANCER_UNAVAILABLE,
};

static void random_connector(struct rng *r, struct balancer_connector *c)
{
    static const double mins[] = { 6, 6, 6, 6, 8, 10, 0, 6.05, 1 };
    balancer_connector_init(c);
    c->state = states[rng_below(r, sizeof states / sizeof states[0])];
    c->phases = rng_pct(r, 50) ? 3 : 1;
    c->phase = (enum balancer_phase)rng_below(r, 3);
    c->priority = (int32_t)rng_below(r, 3);
    c->min_a = mins[rng_below(r, sizeof mins / sizeof mins[0])];
    c->max_a = rng_pct(r, 5) ? rng_amps(r, 0, 8) : rng_amps(r, 6, 64);
    c->arrival = (double)rng_below(r, 1000);
    if (rng_pct(r, 50)) {
        double peak = rng_amps(r, 0, c->max_a + 5);
        for (int p = 0; p < 3; p++)
            c->measured_a[p] = rng_pct(r, 10) ? NAN : peak - rng_amps(r, 0, 2);
    }
    if (rng_pct(r, 25))
        c->csms_limit_a = rng_amps(r, 0, 40);
    if (rng_pct(r, 15))
        c->ev_min_a = rng_amps(r, 0, 12);
    if (rng_pct(r, 15))
        c->ev_max_a = rng_amps(r, 4, 40);
    c->not_following = rng_pct(r, 4);
    c->no_smart_charging = rng_pct(r, 2);
}

/* Budget for one limit: usually somewhere that makes the problem
 * interesting (around the sum of minimums), sometimes unbounded, zero,
 * negative or NAN. */
static double random_budget(struct rng *r, double scale)
{
    uint32_t k = rng_below(r, 100);
    if (k < 10)
        return INFINITY;
    if (k < 13)
        return 0;
    if (k < 15)
        return -5;
    if (k < 16)
        return NAN;
    return rng_amps(r, 0, scale + 1);
}

static void random_site(struct rng *r, struct site *s)
{
    memset(s, 0, sizeof *s);
    size_t n = rng_below(r, MAXN + 1);
    uint32_t next_group = 1;
    while (s->n < n) {
        struct balancer_connector *c = &s->c[s->n];
        if (rng_pct(r, 20)) {
            /* A group of identical connectors, each alone on an identical
             * charger, so nothing but order tells them apart. */
            size_t k = 2 + rng_below(r, 6);
            random_connector(r, c);
            double ch_max = rng_pct(r, 50) ? NAN : rng_amps(r, 6, 80);
            for (size_t j = 0; j < k && s->n < n; j++) {
                s->c[s->n] = *c;
                s->c[s->n].charger = (uint32_t)s->m;
                s->c[s->n].arrival = (double)rng_below(r, 1000);
                s->group[s->n] = next_group;
                s->ch[s->m++].max_a = ch_max;
                s->n++;
            }
            next_group++;
            continue;
        }
        /* A charger with 1-4 connectors. */
        size_t k = 1 + rng_below(r, 4);
        s->ch[s->m].max_a = rng_pct(r, 60) ? NAN : rng_amps(r, 6, 80);
        for (size_t j = 0; j < k && s->n < n; j++) {
            random_connector(r, &s->c[s->n]);
            s->c[s->n].charger = (uint32_t)s->m;
            s->n++;
        }
        s->m++;
    }
    for (size_t i = 0; i < s->n; i++)
        s->c[i].key = (uint32_t)i;
    double scale = 8.0 * (double)n / 2 + 1;
    balancer_budget_unlimited(&s->in.budget);
    for (int p = 0; p < 3; p++)
        s->in.budget.phase_a[p] = random_budget(r, scale);
    s->in.budget.total_w = random_budget(r, 3 * scale) * V;
    s->in.voltage_v = V;
    s->in.headroom_a = rng_pct(r, 30) ? NAN : rng_amps(r, 0, 4);
    s->in.connectors = s->c;
    s->in.n_connectors = s->n;
    s->in.chargers = s->ch;
    s->in.n_chargers = s->m;
}

static int allocate(const struct site *s, struct result *res)
{
    res->out.connectors = res->a;
    res->out.chargers = res->sum;
    if (balancer_scratch_size(s->n, s->m) > sizeof scratch)
        return -1000;
    return balancer_allocate(&s->in, &res->out, scratch, sizeof scratch);
}

static bool is_active(enum balancer_state st)
{
    return st == BALANCER_PREPARING || st == BALANCER_CHARGING || st == BALANCER_SUSPENDED_EV
           || st == BALANCER_SUSPENDED_EVSE;
}

static bool uses(const struct balancer_connector *c, int p)
{
    return c->phases == 3 || (int)c->phase == p;
}

/* Controlled: the allocator decides its current. */
static bool controlled(const struct balancer_connector *c)
{
    return is_active(c->state) && !c->not_following && !c->no_smart_charging;
}

static double eff_min(const struct balancer_connector *c)
{
    double lo = c->min_a;
    if (!isnan(c->ev_min_a) && c->ev_min_a > lo)
        lo = c->ev_min_a;
    return ceil(lo * 10 - 1e-9) / 10;
}

static double eff_max(const struct balancer_connector *c)
{
    double hi = c->max_a;
    if (!isnan(c->csms_limit_a) && c->csms_limit_a < hi)
        hi = c->csms_limit_a;
    if (!isnan(c->ev_max_a) && c->ev_max_a < hi)
        hi = c->ev_max_a;
    return floor(hi * 10 + 1e-9) / 10;
}

static double cap_of(double budget)
{
    return budget >= 0 ? budget : 0; /* NAN and negative: 0 */
}

/* Usage of every limit, split into what the allocator controls and what it
 * does not: [0..2] phases, [3] total in A-phases. */
struct usage {
    double ctl[4], unctl[4];
    double count[4];                 /* controlled connectors in it, weighted */
    double ch_ctl[MAXN][3], ch_unctl[MAXN][3], ch_count[MAXN][3];
};

static void measure(const struct site *s, const struct result *res, struct usage *u)
{
    memset(u, 0, sizeof *u);
    for (size_t i = 0; i < s->n; i++) {
        const struct balancer_connector *c = &s->c[i];
        bool ctl = controlled(c);
        double a = res->a[i].counted_a;
        for (int p = 0; p < 3; p++) {
            if (!uses(c, p))
                continue;
            if (ctl) {
                u->ctl[p] += a;
                u->count[p] += 1;
                u->ch_ctl[c->charger][p] += a;
                u->ch_count[c->charger][p] += 1;
            } else {
                u->unctl[p] += a;
                u->ch_unctl[c->charger][p] += a;
            }
        }
        if (ctl) {
            u->ctl[3] += a * c->phases;
            u->count[3] += c->phases;
        } else {
            u->unctl[3] += a * c->phases;
        }
    }
}

static double site_cap(const struct site *s, int j)
{
    return j < 3 ? cap_of(s->in.budget.phase_a[j]) : cap_of(s->in.budget.total_w) / V;
}

static uint64_t seed_of(int round)
{
    return 0x9E3779B97F4A7C15u * (uint64_t)(round + 1);
}

/* The site being checked, reported by RUN_PROPERTY when a check fails (a
 * failed ASSERT returns from the test at once). */
static int current_site;
static size_t current_n;

/* Runs the body over every generated site. */
#define FOR_EACH_SITE(s, res, ...) do { \
        static struct site s; static struct result res; \
        struct rng rng_ = { seed_of(0) }; \
        for (current_site = 0; current_site < SITES; current_site++) { \
            random_site(&rng_, &s); \
            current_n = s.n; \
            ASSERT_EQ(allocate(&s, &res), 0); \
            __VA_ARGS__ \
        } \
    } while (0)

#define RUN_PROPERTY(name) do { \
        RUN(name); \
        if (test__cur_failed) \
            fprintf(stderr, "  %s: failed at site %d (n=%zu)\n", #name, current_site, \
                    current_n); \
    } while (0)

TEST(never_above_budget)
{
    FOR_EACH_SITE(s, res, {
        static struct usage u;
        measure(&s, &res, &u);
        for (int j = 0; j < 4; j++) {
            /* What cannot be controlled is taken first; the rest fits in what
             * is left (or in nothing, when it alone is over). */
            double left = site_cap(&s, j) - u.unctl[j];
            ASSERT(u.ctl[j] <= (left > 0 ? left : 0) + TOL);
            if (!res.out.summary.overcommitted)
                ASSERT(u.ctl[j] + u.unctl[j] <= site_cap(&s, j) + TOL);
        }
        for (size_t h = 0; h < s.m; h++) {
            if (isnan(s.ch[h].max_a))
                continue;
            for (int p = 0; p < 3; p++) {
                double left = s.ch[h].max_a - u.ch_unctl[h][p];
                ASSERT(u.ch_ctl[h][p] <= (left > 0 ? left : 0) + TOL);
            }
        }
        for (int p = 0; p < 3; p++)
            ASSERT(fabs(res.out.summary.used_a[p] - u.ctl[p] - u.unctl[p]) < TOL);
        ASSERT(fabs(res.out.summary.used_w - (u.ctl[3] + u.unctl[3]) * V) < TOL * V);
    });
}

TEST(nobody_between_zero_and_minimum)
{
    FOR_EACH_SITE(s, res, {
        for (size_t i = 0; i < s.n; i++) {
            if (!controlled(&s.c[i]))
                continue;
            double a = res.a[i].limit_a;
            ASSERT(a == 0 || a >= eff_min(&s.c[i]) - 1e-9);
            bool off = res.a[i].status == BALANCER_PAUSED
                       || res.a[i].status == BALANCER_PAUSED_BY_LIMIT;
            if (off)
                ASSERT(a == 0);
            else if (a == 0)
                ASSERT(eff_min(&s.c[i]) == 0); /* only a zero minimum may sit at 0 A */
        }
    });
}

TEST(never_above_effective_max)
{
    FOR_EACH_SITE(s, res, {
        for (size_t i = 0; i < s.n; i++) {
            if (!controlled(&s.c[i]))
                continue;
            ASSERT(res.a[i].limit_a <= eff_max(&s.c[i]) + 1e-9);
            if (s.c[i].state == BALANCER_SUSPENDED_EV)
                ASSERT(res.a[i].limit_a == 0 || fabs(res.a[i].limit_a - eff_min(&s.c[i])) < 1e-9);
        }
    });
}

TEST(inactive_get_zero_and_no_car)
{
    FOR_EACH_SITE(s, res, {
        for (size_t i = 0; i < s.n; i++) {
            bool active = is_active(s.c[i].state);
            if (!active) {
                ASSERT(res.a[i].limit_a == 0);
                ASSERT_EQ(res.a[i].status, BALANCER_NO_CAR);
            } else {
                ASSERT_NE(res.a[i].status, BALANCER_NO_CAR);
            }
        }
    });
}

TEST(limits_are_decimal)
{
    FOR_EACH_SITE(s, res, {
        for (size_t i = 0; i < s.n; i++) {
            double a = res.a[i].limit_a;
            ASSERT(a >= 0 && fabs(a * 10 - round(a * 10)) < 1e-6);
        }
    });
}

TEST(equal_connectors_equal_shares)
{
    size_t groups_checked = 0;
    FOR_EACH_SITE(s, res, {
        for (size_t i = 0; i < s.n; i++) {
            if (!s.group[i] || res.a[i].limit_a == 0)
                continue;
            for (size_t j = i + 1; j < s.n && s.group[j] == s.group[i]; j++) {
                if (res.a[j].limit_a == 0)
                    continue; /* paused: only order told them apart */
                ASSERT(res.a[i].limit_a == res.a[j].limit_a);
                ASSERT_EQ(res.a[i].status, res.a[j].status);
                groups_checked++;
            }
        }
    });
    ASSERT(groups_checked > 1000);
}

TEST(deterministic)
{
    static struct result again;
    FOR_EACH_SITE(s, res, {
        memset(scratch, 0xa5, sizeof scratch);
        memset(&again, 0x5a, sizeof again);
        ASSERT_EQ(allocate(&s, &again), 0);
        ASSERT(memcmp(res.a, again.a, s.n * sizeof res.a[0]) == 0);
        ASSERT(memcmp(res.sum, again.sum, s.m * sizeof res.sum[0]) == 0);
        ASSERT(memcmp(&res.out.summary, &again.out.summary, sizeof res.out.summary) == 0);
    });
}

/* Whether connector i sits in a limit that is full to within the flooring
 * of its controlled members (0.1 A each). */
static bool in_a_full_limit(const struct site *s, const struct usage *u, size_t i, double extra)
{
    const struct balancer_connector *c = &s->c[i];
    for (int p = 0; p < 3; p++) {
        if (!uses(c, p))
            continue;
        if (u->ctl[p] + u->unctl[p] + extra >= site_cap(s, p) - 0.1 * u->count[p] - TOL)
            return true;
        double ch = s->ch[c->charger].max_a;
        if (!isnan(ch) && u->ch_ctl[c->charger][p] + u->ch_unctl[c->charger][p] + extra
                          >= ch - 0.1 * u->ch_count[c->charger][p] - TOL)
            return true;
    }
    return u->ctl[3] + u->unctl[3] + extra * c->phases >= site_cap(s, 3) - 0.1 * u->count[3] - TOL;
}

TEST(work_conserving)
{
    /* A car held below its max (and not lending, not suspended by the EV) is
     * held by a full limit; a paused car's minimum did not fit in one. */
    FOR_EACH_SITE(s, res, {
        static struct usage u;
        measure(&s, &res, &u);
        for (size_t i = 0; i < s.n; i++) {
            const struct balancer_connector *c = &s.c[i];
            enum balancer_status st = res.a[i].status;
            if (!controlled(c) || st == BALANCER_LENT || st == BALANCER_PAUSED_BY_LIMIT
                || c->state == BALANCER_SUSPENDED_EV)
                continue;
            if (st == BALANCER_PAUSED)
                ASSERT(in_a_full_limit(&s, &u, i, eff_min(c)));
            else if (res.a[i].limit_a < eff_max(c) - 0.1 - 1e-9)
                ASSERT(in_a_full_limit(&s, &u, i, 0));
        }
    });
}

TEST(statuses_are_consistent)
{
    FOR_EACH_SITE(s, res, {
        size_t paused = 0, lent = 0, active = 0;
        for (size_t i = 0; i < s.n; i++) {
            const struct balancer_connector *c = &s.c[i];
            const struct balancer_allocation *a = &res.a[i];
            active += is_active(c->state);
            paused += a->status == BALANCER_PAUSED || a->status == BALANCER_PAUSED_BY_LIMIT;
            lent += a->status == BALANCER_LENT;
            switch (a->status) {
            case BALANCER_PAUSED:
            case BALANCER_PAUSED_BY_LIMIT:
                ASSERT(a->limit_a == 0 && controlled(c));
                break;
            case BALANCER_LENT: {
                bool measured = false;
                for (int p = 0; p < 3; p++)
                    measured |= isfinite(c->measured_a[p]);
                ASSERT(controlled(c) && c->state == BALANCER_CHARGING && measured);
                ASSERT(!isnan(s.in.headroom_a));
                ASSERT(a->limit_a >= eff_min(c) && a->limit_a < eff_max(c));
                break;
            }
            case BALANCER_SHARED:
            case BALANCER_CAPPED_BY_CHARGER:
                ASSERT(a->limit_a > eff_min(c));
                break;
            case BALANCER_CAPPED_BY_MAX:
                ASSERT(fabs(a->limit_a - eff_max(c)) < 1e-9);
                break;
            case BALANCER_AT_MIN:
                ASSERT(fabs(a->limit_a - eff_min(c)) < 1e-9);
                break;
            case BALANCER_NOT_FOLLOWING:
            case BALANCER_NO_SMART:
                ASSERT(is_active(c->state) && !controlled(c));
                ASSERT(a->counted_a >= c->max_a);
                break;
            default:
                break;
            }
        }
        ASSERT_EQ(res.out.summary.n_paused, paused);
        ASSERT_EQ(res.out.summary.n_lent, lent);
        ASSERT_EQ(res.out.summary.n_active, active);
    });
}

/* Sum of controlled power, in A-phases. */
static double controlled_total(const struct site *s, const struct result *res)
{
    double t = 0;
    for (size_t i = 0; i < s->n; i++)
        if (controlled(&s->c[i]))
            t += res->a[i].limit_a * s->c[i].phases;
    return t;
}

TEST(lending_caps_at_draw_plus_headroom)
{
    /* The lending rule as an invariant: a charging car with a known draw
     * never gets more than max(minimum, draw + headroom); one that is held
     * there while offered more is reported as lending. */
    FOR_EACH_SITE(s, res, {
        if (isnan(s.in.headroom_a))
            continue;
        for (size_t i = 0; i < s.n; i++) {
            const struct balancer_connector *c = &s.c[i];
            double draw = NAN;
            for (int p = 0; p < 3; p++)
                if (isfinite(c->measured_a[p]) && !(draw >= c->measured_a[p]))
                    draw = c->measured_a[p] > 0 ? c->measured_a[p] : 0;
            if (!controlled(c) || c->state != BALANCER_CHARGING || isnan(draw))
                continue;
            double keep = floor((draw + s.in.headroom_a) * 10 + 1e-9) / 10;
            if (keep < eff_min(c))
                keep = eff_min(c);
            ASSERT(res.a[i].limit_a <= keep + 1e-9);
            if (res.a[i].status == BALANCER_LENT)
                ASSERT(fabs(res.a[i].limit_a - keep) < 1e-9);
        }
    });
}

TEST(order_of_the_array_does_not_matter)
{
    /* Shuffled (keys and chargers travel with their connectors), every
     * connector is paused or not alike and gets the same limit up to the
     * flooring (sums in another order may round a last bit differently). */
    static struct site shuffled;
    static struct result again;
    static size_t perm[MAXN];
    struct rng pick = { 777 };
    FOR_EACH_SITE(s, res, {
        shuffled = s;
        for (size_t i = 0; i < s.n; i++)
            perm[i] = i;
        for (size_t i = s.n; i > 1; i--) {
            size_t j = rng_below(&pick, (uint32_t)i);
            size_t t = perm[i - 1];
            perm[i - 1] = perm[j];
            perm[j] = t;
        }
        for (size_t i = 0; i < s.n; i++)
            shuffled.c[i] = s.c[perm[i]];
        shuffled.in.connectors = shuffled.c;
        shuffled.in.chargers = shuffled.ch;
        ASSERT_EQ(allocate(&shuffled, &again), 0);
        for (size_t i = 0; i < s.n; i++) {
            const struct balancer_allocation *a = &res.a[perm[i]], *b = &again.a[i];
            ASSERT_EQ(a->status == BALANCER_PAUSED, b->status == BALANCER_PAUSED);
            ASSERT(fabs(a->limit_a - b->limit_a) <= 0.1 + 1e-9);
        }
    });
}

/* Whether the same connectors are paused in both results. */
static bool same_paused(const struct site *s, const struct result *a, const struct result *b)
{
    for (size_t i = 0; i < s->n; i++)
        if ((a->a[i].status == BALANCER_PAUSED) != (b->a[i].status == BALANCER_PAUSED))
            return false;
    return true;
}

/* What holds, checked over many sites before asserting it: raising any budget
 * (all limits scaled up, one phase or the total raised a little) never lowers
 * the total power allocated, as long as the same connectors get their minimum
 * and lending is off. What does not hold, and is not asserted:
 *  - per connector: raising L1 lets a three-phase car rise, which takes L2
 *    from a single-phase car there (max-min fairness across coupled phases);
 *  - when the raise changes whose minimum fits: an earlier car's minimum now
 *    fits and blocks a later car with a larger minimum (minimums are
 *    indivisible and given in priority/arrival order, by design);
 *  - with lending: who lends depends on the offers, which are not monotone
 *    per connector. */
TEST(more_budget_never_less_power)
{
    static struct result more;
    struct rng pick = { 12345 };
    size_t checked = 0;
    FOR_EACH_SITE(s, res, {
        struct balancer_budget saved = s.in.budget;
        double headroom = s.in.headroom_a;
        s.in.headroom_a = NAN;
        ASSERT_EQ(allocate(&s, &res), 0);
        double raise = rng_amps(&pick, 0.1, 5);
        switch (rng_below(&pick, 3)) {
        case 0:
            for (int p = 0; p < 3; p++)
                s.in.budget.phase_a[p] = cap_of(saved.phase_a[p]) * 1.5 + 3;
            s.in.budget.total_w = cap_of(saved.total_w) * 1.5 + 3 * V;
            break;
        case 1: {
            int p = (int)rng_below(&pick, 3);
            s.in.budget.phase_a[p] = cap_of(saved.phase_a[p]) + raise;
            break;
        }
        default:
            s.in.budget.total_w = cap_of(saved.total_w) + raise * V;
            break;
        }
        ASSERT_EQ(allocate(&s, &more), 0);
        s.in.budget = saved;
        s.in.headroom_a = headroom;
        if (!same_paused(&s, &res, &more))
            continue;
        checked++;
        double floor_loss = 0.1 * 3 * (double)s.n;
        ASSERT(controlled_total(&s, &more) >= controlled_total(&s, &res) - floor_loss - TOL);
    });
    ASSERT(checked > SITES / 2);
}

int main(void)
{
    RUN_PROPERTY(never_above_budget);
    RUN_PROPERTY(nobody_between_zero_and_minimum);
    RUN_PROPERTY(never_above_effective_max);
    RUN_PROPERTY(inactive_get_zero_and_no_car);
    RUN_PROPERTY(limits_are_decimal);
    RUN_PROPERTY(equal_connectors_equal_shares);
    RUN_PROPERTY(deterministic);
    RUN_PROPERTY(work_conserving);
    RUN_PROPERTY(statuses_are_consistent);
    RUN_PROPERTY(lending_caps_at_draw_plus_headroom);
    RUN_PROPERTY(order_of_the_array_does_not_matter);
    RUN_PROPERTY(more_budget_never_less_power);
    return test_summary();
}
