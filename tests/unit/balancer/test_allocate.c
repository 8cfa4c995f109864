/* The allocator, rule by rule, on small hand-made sites. */
#include "balancer.h"
#include "test.h"

#include <errno.h>
#include <stdint.h>

#define V 230.0
#define MAXN 128
#define EPS 1e-9

/* A site under test: connectors, chargers, result, and the scratch memory. */
struct site {
    struct balancer_connector c[MAXN];
    struct balancer_charger ch[MAXN];
    struct balancer_allocation a[MAXN];
    struct balancer_charger_sum sum[MAXN];
    struct balancer_input in;
    struct balancer_output out;
    size_t n, m;
    unsigned char scratch[1024 * MAXN];
};

/* Per-phase budget (A) and total (W); INFINITY for none. No lending. */
static void site_init(struct site *s, double phase_a, double total_w)
{
    memset(s, 0, sizeof *s);
    balancer_budget_unlimited(&s->in.budget);
    for (int p = 0; p < 3; p++)
        s->in.budget.phase_a[p] = phase_a;
    s->in.budget.total_w = total_w;
    s->in.voltage_v = V;
    s->in.headroom_a = NAN;
}

/* A new charger with no charger-wide max; returns its index. */
static uint32_t add_charger(struct site *s, double max_a)
{
    s->ch[s->m].max_a = max_a;
    return (uint32_t)s->m++;
}

/* A charging connector on the given charger; key and arrival are its index. */
static struct balancer_connector *add_on(struct site *s, uint32_t charger, int phases,
                                         enum balancer_phase ph, double min, double max)
{
    struct balancer_connector *c = &s->c[s->n];
    balancer_connector_init(c);
    c->key = (uint32_t)s->n;
    c->charger = charger;
    c->state = BALANCER_CHARGING;
    c->phases = phases;
    c->phase = ph;
    c->min_a = min;
    c->max_a = max;
    c->arrival = (double)s->n;
    s->n++;
    return c;
}

/* A charging connector on a charger of its own. */
static struct balancer_connector *add(struct site *s, int phases, enum balancer_phase ph,
                                      double min, double max)
{
    return add_on(s, add_charger(s, NAN), phases, ph, min, max);
}

static int run(struct site *s)
{
    s->in.connectors = s->c;
    s->in.n_connectors = s->n;
    s->in.chargers = s->ch;
    s->in.n_chargers = s->m;
    s->out.connectors = s->a;
    s->out.chargers = s->sum;
    size_t need = balancer_scratch_size(s->n, s->m);
    if (need > sizeof s->scratch)
        return -1000;
    return balancer_allocate(&s->in, &s->out, s->scratch, sizeof s->scratch);
}

/* Sum of limits on one phase. */
static double phase_sum(const struct site *s, int p)
{
    double sum = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->c[i].phases == 3 || (int)s->c[i].phase == p)
            sum += s->a[i].counted_a;
    return sum;
}

static bool is_decimal(double a)
{
    return fabs(a * 10 - round(a * 10)) < 1e-6;
}

TEST(no_cars)
{
    struct site s;
    site_init(&s, 100, INFINITY);
    enum balancer_state idle[] = { BALANCER_AVAILABLE, BALANCER_FINISHING, BALANCER_FAULTED,
                                   BALANCER_UNAVAILABLE };
    for (size_t i = 0; i < 4; i++)
        add(&s, 3, BALANCER_L1, 6, 32)->state = idle[i];
    ASSERT_EQ(run(&s), 0);
    for (size_t i = 0; i < 4; i++) {
        ASSERT(s.a[i].limit_a == 0);
        ASSERT_EQ(s.a[i].status, BALANCER_NO_CAR);
    }
    ASSERT_EQ(s.out.summary.n_active, 0);
    ASSERT_EQ(s.out.summary.binding, BALANCER_BIND_NONE);
    ASSERT_DBL_NEAR(s.out.summary.used_w, 0, EPS);
}

TEST(empty_site)
{
    struct site s;
    site_init(&s, 100, INFINITY);
    ASSERT_EQ(run(&s), 0);
    ASSERT_EQ(s.out.summary.n_active, 0);
    ASSERT_EQ(balancer_scratch_size(0, 0), 0);
    struct balancer_output out = { 0 };
    ASSERT_EQ(balancer_allocate(&s.in, &out, NULL, 0), 0);
}

TEST(one_car)
{
    static const struct {
        double phase_a, total_w;
        double want;
        enum balancer_status status;
        enum balancer_binding binding;
    } rows[] = {
        { 100, INFINITY, 32, BALANCER_CAPPED_BY_MAX, BALANCER_BIND_NONE },
        { 20, INFINITY, 20, BALANCER_SHARED, BALANCER_BIND_L1 },
        { 6, INFINITY, 6, BALANCER_AT_MIN, BALANCER_BIND_L1 },
        { 5.99, INFINITY, 0, BALANCER_PAUSED, BALANCER_BIND_L1 },
        { INFINITY, 3 * V * 10, 10, BALANCER_SHARED, BALANCER_BIND_TOTAL },
        { 12.34, INFINITY, 12.3, BALANCER_SHARED, BALANCER_BIND_L1 },
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct site s;
        site_init(&s, rows[r].phase_a, rows[r].total_w);
        add(&s, 3, BALANCER_L1, 6, 32);
        ASSERT_EQ(run(&s), 0);
        ASSERT_DBL_NEAR(s.a[0].limit_a, rows[r].want, EPS);
        ASSERT_EQ(s.a[0].status, rows[r].status);
        ASSERT_EQ(s.out.summary.binding, rows[r].binding);
        ASSERT_EQ(s.out.summary.n_active, 1);
    }
}

TEST(cars_under_a_cap)
{
    /* n identical three-phase cars (6..32 A) under a per-phase cap. */
    static const struct {
        int n;
        double phase_a;
        double want;    /* each car that charges */
        int paused;     /* the last ones in arrival order */
    } rows[] = {
        { 2, 100, 32, 0 },
        { 4, 64, 16, 0 },
        { 3, 20, 6.6, 0 },      /* 6.666.. floored */
        { 3, 17.9, 8.9, 1 },    /* two minimums fit, the third is paused */
        { 40, 300, 7.5, 0 },
        { 60, 300, 6, 10 },     /* 50 minimums fit */
        { 100, 1000, 10, 0 },
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct site s;
        site_init(&s, rows[r].phase_a, INFINITY);
        for (int i = 0; i < rows[r].n; i++)
            add(&s, 3, BALANCER_L1, 6, 32);
        ASSERT_EQ(run(&s), 0);
        int charging = rows[r].n - rows[r].paused;
        for (int i = 0; i < rows[r].n; i++) {
            if (i < charging) {
                ASSERT_DBL_NEAR(s.a[i].limit_a, rows[r].want, EPS);
            } else {
                ASSERT(s.a[i].limit_a == 0);
                ASSERT_EQ(s.a[i].status, BALANCER_PAUSED);
            }
        }
        ASSERT_EQ(s.out.summary.n_paused, rows[r].paused);
        for (int p = 0; p < 3; p++)
            ASSERT(phase_sum(&s, p) <= rows[r].phase_a + 1e-9);
    }
}

TEST(priorities_get_minimum_first)
{
    struct site s;
    site_init(&s, 13, INFINITY);
    add(&s, 3, BALANCER_L1, 6, 32)->priority = 0; /* arrived first */
    add(&s, 3, BALANCER_L1, 6, 32)->priority = 5;
    add(&s, 3, BALANCER_L1, 6, 32)->priority = 1;
    ASSERT_EQ(run(&s), 0);
    ASSERT_EQ(s.a[0].status, BALANCER_PAUSED);
    ASSERT(s.a[0].limit_a == 0);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 6.5, EPS);
    ASSERT_DBL_NEAR(s.a[2].limit_a, 6.5, EPS);
    /* Priority orders minimums only: the rest is shared equally. */
    ASSERT_EQ(s.a[1].status, BALANCER_SHARED);
    ASSERT_EQ(s.a[2].status, BALANCER_SHARED);
}

TEST(arrival_then_key_order)
{
    struct site s;
    site_init(&s, 13, INFINITY);
    add(&s, 3, BALANCER_L1, 6, 32)->arrival = 30;
    add(&s, 3, BALANCER_L1, 6, 32)->arrival = 10;
    add(&s, 3, BALANCER_L1, 6, 32)->arrival = 20;
    ASSERT_EQ(run(&s), 0);
    ASSERT_EQ(s.a[0].status, BALANCER_PAUSED);
    ASSERT(s.a[1].limit_a > 0 && s.a[2].limit_a > 0);

    /* Same arrival: the lower key first, whatever the array order. */
    site_init(&s, 7, INFINITY);
    add(&s, 1, BALANCER_L1, 6, 32)->key = 9;
    add(&s, 1, BALANCER_L1, 6, 32)->key = 4;
    s.c[0].arrival = s.c[1].arrival = 100;
    ASSERT_EQ(run(&s), 0);
    ASSERT_EQ(s.a[0].status, BALANCER_PAUSED);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 7, EPS);

    /* An unknown arrival time goes last. */
    site_init(&s, 7, INFINITY);
    add(&s, 1, BALANCER_L1, 6, 32)->arrival = NAN;
    add(&s, 1, BALANCER_L1, 6, 32)->arrival = 1e9;
    ASSERT_EQ(run(&s), 0);
    ASSERT_EQ(s.a[0].status, BALANCER_PAUSED);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 7, EPS);
}

TEST(minimums_that_do_not_fit)
{
    /* 1-phase cars on L1 with different minimums: greedy in arrival order,
     * and a later, smaller minimum may still fit. */
    struct site s;
    site_init(&s, 20, INFINITY);
    add(&s, 1, BALANCER_L1, 10, 32);
    add(&s, 1, BALANCER_L1, 8, 32);
    add(&s, 1, BALANCER_L1, 6, 32);  /* 10 + 8 + 6 > 20: paused */
    add(&s, 1, BALANCER_L1, 2, 32);  /* 10 + 8 + 2 = 20: fits */
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 10, EPS);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 8, EPS);
    ASSERT_EQ(s.a[2].status, BALANCER_PAUSED);
    ASSERT(s.a[2].limit_a == 0);
    ASSERT_DBL_NEAR(s.a[3].limit_a, 2, EPS);
    for (size_t i = 0; i < s.n; i++)
        ASSERT(s.a[i].limit_a == 0 || s.a[i].limit_a >= s.c[i].min_a);
}

TEST(water_level_with_unequal_minimums)
{
    /* The water level rises past the lower minimum first: 10 and 6 A minimums
     * under 18 A give 10 and 8, under 24 A give 12 and 12. */
    struct site s;
    site_init(&s, 18, INFINITY);
    add(&s, 1, BALANCER_L1, 10, 32);
    add(&s, 1, BALANCER_L1, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 10, EPS);
    ASSERT_EQ(s.a[0].status, BALANCER_AT_MIN);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 8, EPS);
    ASSERT_EQ(s.a[1].status, BALANCER_SHARED);
    s.in.budget.phase_a[0] = 24;
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 12, EPS);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 12, EPS);
}

TEST(single_phase_counts_on_its_phase_only)
{
    struct site s;
    site_init(&s, 16, INFINITY);
    add(&s, 1, BALANCER_L1, 6, 16);
    add(&s, 1, BALANCER_L2, 6, 16);
    add(&s, 1, BALANCER_L3, 6, 16);
    ASSERT_EQ(run(&s), 0);
    for (size_t i = 0; i < 3; i++) {
        ASSERT_DBL_NEAR(s.a[i].limit_a, 16, EPS);
        ASSERT_EQ(s.a[i].status, BALANCER_CAPPED_BY_MAX);
    }
    ASSERT_DBL_NEAR(s.out.summary.used_a[1], 16, EPS);
    ASSERT_DBL_NEAR(s.out.summary.used_w, 3 * 16 * V, 1e-6);
}

TEST(mixed_phases_with_l2_full_of_single_phase)
{
    /* A two-wheeler depot: L2 is full of single-phase chargers. */
    struct site s;
    site_init(&s, 32, INFINITY);
    for (int i = 0; i < 6; i++)
        add(&s, 1, BALANCER_L2, 6, 16);
    add(&s, 3, BALANCER_L1, 6, 32);      /* needs 6 A on L2 too */
    add(&s, 1, BALANCER_L1, 6, 16);
    ASSERT_EQ(run(&s), 0);
    for (int i = 0; i < 5; i++)
        ASSERT_DBL_NEAR(s.a[i].limit_a, 6.4, EPS); /* 32 / 5 */
    ASSERT_EQ(s.a[5].status, BALANCER_PAUSED);
    ASSERT_EQ(s.a[6].status, BALANCER_PAUSED);   /* L2 has no room for its minimum */
    ASSERT_DBL_NEAR(s.a[7].limit_a, 16, EPS);     /* L1 is free */
    ASSERT_EQ(s.a[7].status, BALANCER_CAPPED_BY_MAX);
    ASSERT(phase_sum(&s, 1) <= 32 + 1e-9);
    ASSERT_EQ(s.out.summary.binding, BALANCER_BIND_L2);
    ASSERT(s.out.summary.binding_mask & BALANCER_BINDS(BALANCER_BIND_L2));
    ASSERT(!(s.out.summary.binding_mask & BALANCER_BINDS(BALANCER_BIND_L1)));

    /* The three-phase car arrived first: it holds its minimum on L2 and is
     * then held by L2 with the others, though L1 and L3 have room. */
    site_init(&s, 32, INFINITY);
    add(&s, 3, BALANCER_L1, 6, 32);
    for (int i = 0; i < 6; i++)
        add(&s, 1, BALANCER_L2, 6, 16);
    ASSERT_EQ(run(&s), 0);
    for (int i = 0; i < 5; i++)
        ASSERT_DBL_NEAR(s.a[i].limit_a, 6.4, EPS);
    ASSERT_EQ(s.a[0].status, BALANCER_SHARED);
    ASSERT_EQ(s.a[5].status, BALANCER_PAUSED);
    ASSERT_EQ(s.a[6].status, BALANCER_PAUSED);
    ASSERT_DBL_NEAR(phase_sum(&s, 1), 32, 1e-9);
    ASSERT_DBL_NEAR(phase_sum(&s, 0), 6.4, 1e-9);
}

TEST(unequal_phase_budgets)
{
    /* L1 has 20 A left, L2 and L3 100 A: one three-phase car and a
     * single-phase car on each phase. */
    struct site s;
    site_init(&s, 100, INFINITY);
    s.in.budget.phase_a[0] = 20;
    add(&s, 3, BALANCER_L1, 6, 32);
    add(&s, 1, BALANCER_L1, 6, 32);
    add(&s, 1, BALANCER_L2, 6, 32);
    add(&s, 1, BALANCER_L3, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 10, EPS);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 10, EPS);
    ASSERT_DBL_NEAR(s.a[2].limit_a, 32, EPS);
    ASSERT_DBL_NEAR(s.a[3].limit_a, 32, EPS);
    ASSERT_EQ(s.out.summary.binding, BALANCER_BIND_L1);
}

TEST(total_budget_in_watts)
{
    /* 22,080 W is 32 A on three phases at 230 V: two cars get 16 A each. */
    struct site s;
    site_init(&s, INFINITY, 3 * V * 32);
    add(&s, 3, BALANCER_L1, 6, 32);
    add(&s, 3, BALANCER_L1, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 16, EPS);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 16, EPS);
    ASSERT_EQ(s.out.summary.binding, BALANCER_BIND_TOTAL);
    ASSERT(s.out.summary.used_w <= 3 * V * 32 + 1e-6);

    /* A single-phase car costs a third of the power per amp: equal currents,
     * and the watts add up: 3 * I + I = 40 A-phases -> 10 A each. */
    site_init(&s, INFINITY, V * 40);
    add(&s, 3, BALANCER_L1, 6, 32);
    add(&s, 1, BALANCER_L2, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 10, EPS);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 10, EPS);
    ASSERT_DBL_NEAR(balancer_amps_to_watts(s.a[0].limit_a, 3, V) +
                    balancer_amps_to_watts(s.a[1].limit_a, 1, V), V * 40, 1e-6);
}

TEST(lending_and_getting_it_back)
{
    struct site s;
    site_init(&s, 40, INFINITY);
    s.in.headroom_a = 2;
    struct balancer_connector *a = add(&s, 3, BALANCER_L1, 6, 32);
    add(&s, 3, BALANCER_L1, 6, 32);
    /* Offered 20, draws 10: keeps 12, lends 8 to the other car. */
    for (int p = 0; p < 3; p++)
        a->measured_a[p] = 10;
    a->measured_a[1] = 10.5; /* the highest phase counts */
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 12.5, EPS);
    ASSERT_EQ(s.a[0].status, BALANCER_LENT);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 27.5, EPS);
    ASSERT_EQ(s.out.summary.n_lent, 1);
    /* It draws all it was given: it gets headroom more next time... */
    for (int p = 0; p < 3; p++)
        a->measured_a[p] = 12.5;
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 14.5, EPS);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 25.5, EPS);
    /* ...and its whole share once it no longer draws clearly less. */
    for (int p = 0; p < 3; p++)
        a->measured_a[p] = 18;
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 20, EPS);
    ASSERT_EQ(s.a[0].status, BALANCER_SHARED);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 20, EPS);
}

TEST(lending_edge_cases)
{
    struct site s;
    site_init(&s, 40, INFINITY);
    s.in.headroom_a = 2;
    struct balancer_connector *a = add(&s, 3, BALANCER_L1, 6, 32);
    add(&s, 3, BALANCER_L1, 6, 32);
    /* Never below its minimum. */
    for (int p = 0; p < 3; p++)
        a->measured_a[p] = 1;
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 6, EPS);
    ASSERT_EQ(s.a[0].status, BALANCER_LENT);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 32, EPS);
    /* Not while preparing or suspended by the EVSE (it cannot draw yet). */
    a->state = BALANCER_PREPARING;
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 20, EPS);
    a->state = BALANCER_SUSPENDED_EVSE;
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 20, EPS);
    /* Not with an unknown draw, nor with lending off (headroom NAN). */
    a->state = BALANCER_CHARGING;
    for (int p = 0; p < 3; p++)
        a->measured_a[p] = NAN;
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 20, EPS);
    a->measured_a[0] = 1;
    s.in.headroom_a = NAN;
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 20, EPS);
    /* A car drawing within headroom of its offer is not a lender. */
    s.in.headroom_a = 2;
    a->measured_a[0] = 18.5;
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 20, EPS);
    ASSERT_EQ(s.out.summary.n_lent, 0);
}

TEST(lending_is_a_fixed_point)
{
    /* Offered 20 each, A draws 15 and lends; B draws 18, within headroom of
     * 20, but once A lends B is offered 21.5 and lends too. One pass gives
     * the result of lending and re-sharing until nothing changes. */
    struct site s;
    site_init(&s, 60, INFINITY);
    s.in.headroom_a = 2;
    struct balancer_connector *a = add(&s, 3, BALANCER_L1, 6, 32);
    struct balancer_connector *b = add(&s, 3, BALANCER_L1, 6, 32);
    add(&s, 3, BALANCER_L1, 6, 32);
    for (int p = 0; p < 3; p++) {
        a->measured_a[p] = 15;
        b->measured_a[p] = 18;
    }
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 17, EPS);
    ASSERT_EQ(s.a[0].status, BALANCER_LENT);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 20, EPS);
    ASSERT_EQ(s.a[1].status, BALANCER_LENT);
    ASSERT_DBL_NEAR(s.a[2].limit_a, 23, EPS);
    ASSERT_EQ(s.a[2].status, BALANCER_SHARED);
    ASSERT_EQ(s.out.summary.n_lent, 2);
    /* What it keeps is floored like every limit: 10.37 + 2 keeps 12.3. */
    for (int p = 0; p < 3; p++)
        a->measured_a[p] = 10.37;
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 12.3, EPS);
}

/* Reference order for priority_order_matches_a_reference. */
static const struct balancer_connector *ref_base;

static int ref_cmp(const void *pa, const void *pb)
{
    const struct balancer_connector *a = &ref_base[*(const int *)pa];
    const struct balancer_connector *b = &ref_base[*(const int *)pb];
    if (a->priority != b->priority)
        return a->priority > b->priority ? -1 : 1;
    bool na = isnan(a->arrival), nb = isnan(b->arrival);
    if (na != nb)
        return na ? 1 : -1; /* unknown arrival last */
    if (!na && a->arrival != b->arrival)
        return a->arrival < b->arrival ? -1 : 1;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return *(const int *)pa - *(const int *)pb;
}

TEST(priority_order_matches_a_reference)
{
    /* Enough candidates for the radix sort (more than 64; 1,000 for the
     * wide digits), with ties in priority, in arrival and in key, negative
     * priorities, negative, epoch-scale and unknown arrivals, and keys that
     * are not in array order. Each car is 6 A exactly on L1; the budget
     * fits k of them: the k first in the reference order must charge. */
    static const size_t sizes[] = { 65, 100, 1000 };
    static struct balancer_connector c[1000];
    static struct balancer_charger ch[1000];
    static struct balancer_allocation a[1000];
    static struct balancer_charger_sum sum[1000];
    static int order[1000];
    static unsigned char scratch[512 * 1000];
    uint64_t rng = 88172645463325252u;
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        size_t n = sizes[z];
        for (size_t i = 0; i < n; i++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            balancer_connector_init(&c[i]);
            c[i].charger = (uint32_t)i;
            c[i].state = BALANCER_CHARGING;
            c[i].phases = 1;
            c[i].min_a = c[i].max_a = 6;
            c[i].priority = (int32_t)(rng % 5) - 2;
            double arrivals[] = { 1.7e9 + (double)(rng % 50), -(double)(rng % 7), NAN, 3.25 };
            c[i].arrival = arrivals[(rng >> 8) % 4];
            c[i].key = (uint32_t)((rng >> 16) % (n / 2)); /* duplicates too */
            ch[i].max_a = NAN;
            order[i] = (int)i;
        }
        ref_base = c;
        qsort(order, n, sizeof order[0], ref_cmp);
        size_t k = n / 3;
        struct balancer_input in = { .connectors = c, .n_connectors = n, .chargers = ch,
                                     .n_chargers = n, .voltage_v = V, .headroom_a = NAN };
        balancer_budget_unlimited(&in.budget);
        in.budget.phase_a[0] = 6.0 * (double)k + 1;
        struct balancer_output out = { .connectors = a, .chargers = sum };
        ASSERT(balancer_scratch_size(n, n) <= sizeof scratch);
        ASSERT_EQ(balancer_allocate(&in, &out, scratch, sizeof scratch), 0);
        for (size_t r = 0; r < n; r++) {
            const struct balancer_allocation *got = &a[order[r]];
            if (r < k)
                ASSERT_DBL_NEAR(got->limit_a, 6, EPS);
            else
                ASSERT_EQ(got->status, BALANCER_PAUSED);
        }
    }
}

TEST(csms_cap_and_the_others_get_its_spare)
{
    struct site s;
    site_init(&s, 60, INFINITY);
    add(&s, 3, BALANCER_L1, 6, 32)->csms_limit_a = 10;
    add(&s, 3, BALANCER_L1, 6, 32);
    add(&s, 3, BALANCER_L1, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 10, EPS);
    ASSERT_EQ(s.a[0].status, BALANCER_CAPPED_BY_MAX);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 25, EPS);
    ASSERT_DBL_NEAR(s.a[2].limit_a, 25, EPS);
}

TEST(csms_limit_below_minimum_pauses)
{
    struct site s;
    site_init(&s, 60, INFINITY);
    add(&s, 3, BALANCER_L1, 6, 32)->csms_limit_a = 5.9;
    add(&s, 3, BALANCER_L1, 6, 32)->csms_limit_a = 0;
    add(&s, 3, BALANCER_L1, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT(s.a[0].limit_a == 0);
    ASSERT_EQ(s.a[0].status, BALANCER_PAUSED_BY_LIMIT);
    ASSERT(s.a[1].limit_a == 0);
    ASSERT_EQ(s.a[1].status, BALANCER_PAUSED_BY_LIMIT);
    ASSERT_DBL_NEAR(s.a[2].limit_a, 32, EPS);
    ASSERT_EQ(s.out.summary.n_paused, 2);
    ASSERT_EQ(s.out.summary.n_active, 3);
}

TEST(charger_max_across_two_connectors)
{
    struct site s;
    site_init(&s, 90, INFINITY);
    uint32_t twin = add_charger(&s, 32);
    add_on(&s, twin, 3, BALANCER_L1, 6, 32);
    add_on(&s, twin, 3, BALANCER_L1, 6, 32);
    add(&s, 3, BALANCER_L1, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 16, EPS);
    ASSERT_EQ(s.a[0].status, BALANCER_CAPPED_BY_CHARGER);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 16, EPS);
    ASSERT_DBL_NEAR(s.a[2].limit_a, 32, EPS);
    ASSERT_DBL_NEAR(s.sum[twin].limit_a[0], 32, EPS);
    ASSERT_DBL_NEAR(s.sum[twin].limit_a[2], 32, EPS);
    ASSERT(s.out.summary.binding_mask & BALANCER_BINDS_CHARGER);
    ASSERT_EQ(s.out.summary.binding, BALANCER_BIND_NONE);

    /* The site binds first: everyone gets 15. */
    s.in.budget.phase_a[0] = 45;
    ASSERT_EQ(run(&s), 0);
    for (int i = 0; i < 3; i++)
        ASSERT_DBL_NEAR(s.a[i].limit_a, 15, EPS);
    ASSERT_EQ(s.out.summary.binding, BALANCER_BIND_L1);

    /* The charger max is per phase: two single-phase connectors on different
     * phases each get the charger's max. */
    site_init(&s, 90, INFINITY);
    uint32_t split = add_charger(&s, 16);
    add_on(&s, split, 1, BALANCER_L1, 6, 32);
    add_on(&s, split, 1, BALANCER_L2, 6, 32);
    add_on(&s, split, 1, BALANCER_L2, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 16, EPS);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 8, EPS);
    ASSERT_DBL_NEAR(s.a[2].limit_a, 8, EPS);
    ASSERT_DBL_NEAR(s.sum[split].limit_a[1], 16, EPS);
    ASSERT_DBL_NEAR(s.sum[split].limit_a[2], 0, EPS);

    /* A charger max below two minimums pauses the later connector. */
    site_init(&s, 90, INFINITY);
    uint32_t small = add_charger(&s, 10);
    add_on(&s, small, 3, BALANCER_L1, 6, 32);
    add_on(&s, small, 3, BALANCER_L1, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 10, EPS);
    ASSERT_EQ(s.a[1].status, BALANCER_PAUSED);
    ASSERT(s.out.summary.binding_mask & BALANCER_BINDS_CHARGER);
}

TEST(not_following_counted_at_max)
{
    struct site s;
    site_init(&s, 40, INFINITY);
    struct balancer_connector *rogue = add(&s, 3, BALANCER_L1, 6, 32);
    rogue->not_following = true;
    rogue->arrival = 1e9; /* it still goes first: it takes what it takes */
    add(&s, 3, BALANCER_L1, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT_EQ(s.a[0].status, BALANCER_NOT_FOLLOWING);
    ASSERT_DBL_NEAR(s.a[0].counted_a, 32, EPS);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 32, EPS);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 8, EPS);
    /* Measured above its max: counted at the measurement. */
    rogue->measured_a[2] = 34;
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].counted_a, 34, EPS);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 6, EPS);
    ASSERT_DBL_NEAR(s.out.summary.used_a[2], 40, 1e-9);
    /* No room left for the other's minimum: paused. */
    rogue->measured_a[2] = 35;
    ASSERT_EQ(run(&s), 0);
    ASSERT_EQ(s.a[1].status, BALANCER_PAUSED);
    ASSERT(!s.out.summary.overcommitted);
    /* Alone over budget: flagged. */
    rogue->measured_a[2] = 41;
    ASSERT_EQ(run(&s), 0);
    ASSERT(s.out.summary.overcommitted);
    ASSERT(s.a[1].limit_a == 0);
    /* No smart charging: counted the same way. */
    rogue->measured_a[2] = NAN;
    rogue->not_following = false;
    rogue->no_smart_charging = true;
    ASSERT_EQ(run(&s), 0);
    ASSERT_EQ(s.a[0].status, BALANCER_NO_SMART);
    ASSERT_DBL_NEAR(s.a[0].counted_a, 32, EPS);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 8, EPS);
    /* Without a car it draws nothing: not counted. */
    rogue->state = BALANCER_AVAILABLE;
    ASSERT_EQ(run(&s), 0);
    ASSERT_EQ(s.a[0].status, BALANCER_NO_CAR);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 32, EPS);
}

TEST(not_following_within_a_charger)
{
    struct site s;
    site_init(&s, 100, INFINITY);
    uint32_t twin = add_charger(&s, 40);
    add_on(&s, twin, 3, BALANCER_L1, 6, 32)->not_following = true;
    add_on(&s, twin, 3, BALANCER_L1, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 8, EPS);
    ASSERT_EQ(s.a[1].status, BALANCER_CAPPED_BY_CHARGER);
    ASSERT_DBL_NEAR(s.sum[twin].counted_a[0], 40, EPS);
}

TEST(draw_without_a_car_is_counted)
{
    struct site s;
    site_init(&s, 32, INFINITY);
    struct balancer_connector *gone = add(&s, 3, BALANCER_L1, 6, 32);
    gone->state = BALANCER_FINISHING;
    gone->measured_a[0] = 10;
    add(&s, 3, BALANCER_L1, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT(s.a[0].limit_a == 0);
    ASSERT_EQ(s.a[0].status, BALANCER_NO_CAR);
    ASSERT_DBL_NEAR(s.a[0].counted_a, 10, EPS);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 22, EPS);
}

TEST(zero_or_negative_budget_pauses_everyone)
{
    static const double budgets[] = { 0, -5, NAN, 5.9 };
    for (size_t r = 0; r < sizeof budgets / sizeof budgets[0]; r++) {
        struct site s;
        site_init(&s, budgets[r], INFINITY);
        for (int i = 0; i < 4; i++)
            add(&s, i % 2 ? 3 : 1, (enum balancer_phase)(i % 3), 6, 32);
        ASSERT_EQ(run(&s), 0);
        for (int i = 0; i < 4; i++) {
            ASSERT(s.a[i].limit_a == 0);
            ASSERT_EQ(s.a[i].status, BALANCER_PAUSED);
        }
        ASSERT_EQ(s.out.summary.n_paused, 4);
    }
    struct site s;
    site_init(&s, 100, -1);
    add(&s, 3, BALANCER_L1, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT_EQ(s.a[0].status, BALANCER_PAUSED);
    ASSERT_EQ(s.out.summary.binding, BALANCER_BIND_TOTAL);
}

TEST(ev_needs_tighten_the_range)
{
    struct site s;
    site_init(&s, 15, INFINITY);
    add(&s, 3, BALANCER_L1, 6, 32)->ev_min_a = 10;
    add(&s, 3, BALANCER_L1, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 15, EPS);
    ASSERT_EQ(s.a[1].status, BALANCER_PAUSED); /* 10 + 6 > 15 */

    site_init(&s, 60, INFINITY);
    struct balancer_connector *small = add(&s, 3, BALANCER_L1, 6, 32);
    small->ev_max_a = 12;
    small->ev_min_a = 4; /* below the charger's minimum: the charger's stands */
    add(&s, 3, BALANCER_L1, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 12, EPS);
    ASSERT_EQ(s.a[0].status, BALANCER_CAPPED_BY_MAX);
    ASSERT_DBL_NEAR(s.a[1].limit_a, 32, EPS);
    /* An EV whose range does not meet the charger's cannot charge. */
    small->ev_max_a = 5;
    ASSERT_EQ(run(&s), 0);
    ASSERT_EQ(s.a[0].status, BALANCER_PAUSED_BY_LIMIT);
    small->ev_max_a = NAN;
    small->ev_min_a = 40;
    ASSERT_EQ(run(&s), 0);
    ASSERT_EQ(s.a[0].status, BALANCER_PAUSED_BY_LIMIT);
}

TEST(states)
{
    struct site s;
    site_init(&s, 100, INFINITY);
    add(&s, 3, BALANCER_L1, 6, 32)->state = BALANCER_SUSPENDED_EV;
    add(&s, 3, BALANCER_L1, 6, 32)->state = BALANCER_SUSPENDED_EVSE;
    add(&s, 3, BALANCER_L1, 6, 32)->state = BALANCER_PREPARING;
    add(&s, 3, BALANCER_L1, 6, 32)->state = BALANCER_CHARGING;
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 6, EPS); /* reserved so the car can resume */
    ASSERT_EQ(s.a[0].status, BALANCER_AT_MIN);
    for (int i = 1; i < 4; i++)
        ASSERT_DBL_NEAR(s.a[i].limit_a, 31.3, EPS); /* (100 - 6) / 3 floored */
    ASSERT_EQ(s.out.summary.n_active, 4);
}

TEST(rounding_never_exceeds_the_budget)
{
    static const struct { int n; int phases; double budget; double min; } rows[] = {
        { 3, 3, 20, 6 }, { 7, 1, 50, 6 }, { 9, 3, 100, 6 }, { 13, 1, 99.99, 6.05 },
        { 30, 3, 200.05, 6 }, { 11, 1, 77.7, 0 },
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct site s;
        site_init(&s, rows[r].budget, INFINITY);
        for (int i = 0; i < rows[r].n; i++)
            add(&s, rows[r].phases, BALANCER_L1, rows[r].min, 32);
        ASSERT_EQ(run(&s), 0);
        for (int i = 0; i < rows[r].n; i++) {
            ASSERT(is_decimal(s.a[i].limit_a));
            ASSERT(s.a[i].limit_a == 0 || s.a[i].limit_a >= rows[r].min);
            ASSERT_DBL_NEAR(s.a[i].limit_a, s.a[0].limit_a, EPS); /* equal shares */
        }
        ASSERT(phase_sum(&s, 0) <= rows[r].budget + 1e-9);
        ASSERT(phase_sum(&s, 0) > rows[r].budget - 0.1 * rows[r].n - 1e-9);
    }
    /* A minimum that is not a multiple of 0.1 is rounded up, never given less. */
    struct site s;
    site_init(&s, 6.1, INFINITY);
    add(&s, 1, BALANCER_L1, 6.05, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 6.1, EPS);
    s.in.budget.phase_a[0] = 6.09;
    ASSERT_EQ(run(&s), 0);
    ASSERT(s.a[0].limit_a == 0);
}

TEST(deterministic)
{
    struct site s;
    site_init(&s, 77.7, 40000);
    s.in.headroom_a = 1.5;
    for (int i = 0; i < 40; i++) {
        struct balancer_connector *c = add(&s, i % 3 ? 1 : 3, (enum balancer_phase)(i % 3),
                                           6, 16 + i % 17);
        c->priority = i % 4;
        c->arrival = (double)(i * 7 % 11);
        c->measured_a[0] = i % 5 ? NAN : 3;
    }
    ASSERT_EQ(run(&s), 0);
    struct balancer_allocation first[MAXN];
    struct balancer_summary first_summary = s.out.summary;
    memcpy(first, s.a, sizeof first);
    memset(s.a, 0xa5, sizeof s.a);
    memset(s.scratch, 0x5a, sizeof s.scratch);
    ASSERT_EQ(run(&s), 0);
    ASSERT(memcmp(first, s.a, s.n * sizeof first[0]) == 0);
    ASSERT(memcmp(&first_summary, &s.out.summary, sizeof first_summary) == 0);
}

TEST(invalid_input)
{
    struct site s;
    site_init(&s, 100, INFINITY);
    add(&s, 3, BALANCER_L1, 6, 32);
    struct balancer_connector *c = add(&s, 3, BALANCER_L1, 6, 32);
    c->phases = 2;
    ASSERT_EQ(run(&s), -EINVAL);
    ASSERT_EQ(s.out.summary.invalid_index, 1);
    c->phases = 1;
    c->phase = (enum balancer_phase)3;
    ASSERT_EQ(run(&s), -EINVAL);
    c->phase = BALANCER_L3;
    c->charger = 7;
    ASSERT_EQ(run(&s), -EINVAL);
    c->charger = 1;
    c->max_a = NAN;
    ASSERT_EQ(run(&s), -EINVAL);
    c->max_a = 32;
    c->min_a = -1;
    ASSERT_EQ(run(&s), -EINVAL);
    c->min_a = 6;
    c->csms_limit_a = -1;
    ASSERT_EQ(run(&s), -EINVAL);
    c->csms_limit_a = NAN;
    c->state = BALANCER_STATE_COUNT;
    ASSERT_EQ(run(&s), -EINVAL);
    c->state = BALANCER_CHARGING;
    s.in.voltage_v = 0;
    ASSERT_EQ(run(&s), -EINVAL);
    s.in.voltage_v = V;
    s.in.headroom_a = -1;
    ASSERT_EQ(run(&s), -EINVAL);
    s.in.headroom_a = NAN;
    s.ch[0].max_a = -3;
    ASSERT_EQ(run(&s), -EINVAL);
    s.ch[0].max_a = NAN;
    ASSERT_EQ(run(&s), 0);
    ASSERT_EQ(s.out.summary.invalid_index, SIZE_MAX);
    ASSERT_EQ(balancer_allocate(&s.in, &s.out, s.scratch, balancer_scratch_size(2, 2) - 1),
              -ENOBUFS);
    ASSERT_STR_EQ(balancer_strerror(-ENOBUFS), "balancer scratch buffer too small");
}

TEST(names)
{
    for (int st = 0; st < BALANCER_STATUS_COUNT; st++)
        ASSERT_NOT_NULL(balancer_status_name((enum balancer_status)st));
    ASSERT_STR_EQ(balancer_status_name(BALANCER_LENT), "lent");
    ASSERT_STR_EQ(balancer_status_name(BALANCER_STATUS_COUNT), "unknown");
    ASSERT_STR_EQ(balancer_binding_name(BALANCER_BIND_L2), "phase_l2");
    ASSERT_STR_EQ(balancer_binding_name(BALANCER_BIND_TOTAL), "total");
}

TEST(watts_for_power_unit_chargers)
{
    /* A charger configured in W gets limit * V * phases. */
    struct site s;
    site_init(&s, 20, INFINITY);
    add(&s, 3, BALANCER_L1, 6, 32);
    add(&s, 1, BALANCER_L2, 6, 32);
    ASSERT_EQ(run(&s), 0);
    ASSERT_DBL_NEAR(s.a[0].limit_a, 10, EPS); /* both on L2 */
    ASSERT_DBL_NEAR(balancer_amps_to_watts(s.a[0].limit_a, s.c[0].phases, V), 10 * 3 * V, 1e-6);
    ASSERT_DBL_NEAR(balancer_amps_to_watts(s.a[1].limit_a, s.c[1].phases, V), 10 * V, 1e-6);
}

int main(void)
{
    RUN(no_cars);
    RUN(empty_site);
    RUN(one_car);
    RUN(cars_under_a_cap);
    RUN(priorities_get_minimum_first);
    RUN(arrival_then_key_order);
    RUN(minimums_that_do_not_fit);
    RUN(water_level_with_unequal_minimums);
    RUN(single_phase_counts_on_its_phase_only);
    RUN(mixed_phases_with_l2_full_of_single_phase);
    RUN(unequal_phase_budgets);
    RUN(total_budget_in_watts);
    RUN(lending_and_getting_it_back);
    RUN(lending_edge_cases);
    RUN(lending_is_a_fixed_point);
    RUN(priority_order_matches_a_reference);
    RUN(csms_cap_and_the_others_get_its_spare);
    RUN(csms_limit_below_minimum_pauses);
    RUN(charger_max_across_two_connectors);
    RUN(not_following_counted_at_max);
    RUN(not_following_within_a_charger);
    RUN(draw_without_a_car_is_counted);
    RUN(zero_or_negative_budget_pauses_everyone);
    RUN(ev_needs_tighten_the_range);
    RUN(states);
    RUN(rounding_never_exceeds_the_budget);
    RUN(deterministic);
    RUN(invalid_input);
    RUN(names);
    RUN(watts_for_power_unit_chargers);
    return test_summary();
}
