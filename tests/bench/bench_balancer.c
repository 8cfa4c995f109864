/* bench_balancer: time per balancer_allocate() call for 10, 100, 1,000 and
 * 10,000 connectors. Target: 1,000 connectors in under 100 us.
 *
 * The sites look like a busy depot: chargers with one or two connectors,
 * 60 % single-phase spread over L1-L3, 85 % of connectors with a car, 70 %
 * of those with a measured draw (so some lend), 30 % of chargers with a
 * charger-wide max, a few CSMS limits and not-following chargers. Scenarios:
 *
 *   loop       one site; before each run 10 % of the connectors get a new
 *              meter reading (outside the timing), as in the gateway, where
 *              every grid sample re-runs the allocator. The budget is 99 % of
 *              the cars' minimums: a few are paused, so the priority sort
 *              runs too.
 *   unrelated  as loop, but eight unrelated sites in turn: nothing carries
 *              over in the branch predictor. The worst case.
 *   roomy      as loop, with 180 % of the minimums: every minimum fits (the
 *              usual case, no sort) and the rest is shared.
 *
 *   bench_balancer [seconds per row]     (default 0.5)
 *
 * This is a benchmark, not a test: it reads the clock (CLOCK_MONOTONIC). */
#include "balancer.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define V 230.0
#define SITES 8

enum scenario { LOOP, UNRELATED, ROOMY };

struct site {
    struct balancer_connector *c;
    struct balancer_charger *ch;
    struct balancer_input in;
};

static uint64_t rng_state = 0x853c49e6748fea9bu;

static uint32_t rng_below(uint32_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)(((rng_state * 0x2545F4914F6CDD1Du) >> 32) % n);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "bench_balancer: out of memory\n");
        exit(1);
    }
    return p;
}

/* A new meter reading for connector c: a draw if a car charges, else none. */
static void new_reading(struct balancer_connector *c)
{
    double draw = c->state == BALANCER_CHARGING && rng_below(100) < 70
                      ? 2 + rng_below(300) / 10.0 : NAN;
    for (int p = 0; p < 3; p++)
        c->measured_a[p] = draw;
}

static void make_site(struct site *s, size_t n, double budget_factor)
{
    s->c = xcalloc(n, sizeof *s->c);
    s->ch = xcalloc(n, sizeof *s->ch);
    size_t m = 0;
    double need[3] = { 0, 0, 0 }; /* minimums of the cars, per phase */
    for (size_t i = 0; i < n;) {
        s->ch[m].max_a = rng_below(100) < 30 ? 32 : NAN;
        size_t k = rng_below(100) < 30 ? 2 : 1;
        int phases = rng_below(100) < 60 ? 1 : 3;
        enum balancer_phase phase = (enum balancer_phase)rng_below(3);
        for (size_t j = 0; j < k && i < n; j++, i++) {
            struct balancer_connector *c = &s->c[i];
            balancer_connector_init(c);
            c->key = (uint32_t)i;
            c->charger = (uint32_t)m;
            c->phases = phases;
            c->phase = phase;
            c->state = rng_below(100) < 85 ? BALANCER_CHARGING : BALANCER_AVAILABLE;
            c->priority = rng_below(100) < 10 ? 1 : 0;
            c->arrival = 1.7e9 + rng_below(86400) + rng_below(1000) / 1000.0; /* epoch s */
            c->min_a = 6;
            c->max_a = phases == 1 ? 16 : 32;
            new_reading(c);
            if (rng_below(100) < 5)
                c->csms_limit_a = 10;
            c->not_following = rng_below(1000) < 5;
            for (int p = 0; p < 3; p++)
                if (c->state == BALANCER_CHARGING && (phases == 3 || (int)phase == p))
                    need[p] += c->min_a;
        }
        m++;
    }
    balancer_budget_unlimited(&s->in.budget);
    for (int p = 0; p < 3; p++)
        s->in.budget.phase_a[p] = need[p] * budget_factor;
    s->in.budget.total_w = (need[0] + need[1] + need[2]) * budget_factor * V;
    s->in.connectors = s->c;
    s->in.n_connectors = n;
    s->in.chargers = s->ch;
    s->in.n_chargers = m;
    s->in.voltage_v = V;
    s->in.headroom_a = 2;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs one row of the table; returns the median in us. */
static double bench(enum scenario sc, size_t n, double seconds)
{
    static const char *const names[] = { "loop", "unrelated", "roomy" };
    struct site sites[SITES];
    int n_sites = sc == UNRELATED ? SITES : 1;
    for (int v = 0; v < n_sites; v++)
        make_site(&sites[v], n, sc == ROOMY ? 1.8 : 0.99);
    struct balancer_allocation *alloc = xcalloc(n, sizeof *alloc);
    struct balancer_charger_sum *sums = xcalloc(n, sizeof *sums);
    size_t scratch_size = balancer_scratch_size(n, n);
    void *scratch = xcalloc(scratch_size, 1);
    /* Enough runs for a stable p99, within the time asked for. */
    size_t runs = (size_t)(seconds * 1e6 / ((double)n * 0.08 + 1));
    if (runs < 1000)
        runs = 1000;
    double *us = xcalloc(runs, sizeof *us);
    struct balancer_output out = { .connectors = alloc, .chargers = sums };
    size_t paused = 0, lent = 0;

    for (size_t r = 0; r < runs + runs / 10; r++) {
        struct site *s = &sites[r % (size_t)n_sites];
        for (size_t k = 0; k < n / 10; k++) /* new meter readings, not timed */
            new_reading(&s->c[rng_below((uint32_t)n)]);
        double t0 = now_us();
        int rc = balancer_allocate(&s->in, &out, scratch, scratch_size);
        double t1 = now_us();
        if (rc != 0) {
            fprintf(stderr, "bench_balancer: %s\n", balancer_strerror(rc));
            exit(1);
        }
        if (r < runs / 10)
            continue; /* warming up */
        us[r - runs / 10] = t1 - t0;
        paused += out.summary.n_paused;
        lent += out.summary.n_lent;
    }
    double total = 0;
    for (size_t r = 0; r < runs; r++)
        total += us[r];
    qsort(us, runs, sizeof *us, cmp_double);
    double median = us[runs / 2];
    printf("%-10s %11zu %9zu %8zu %10.2f %10.2f %10.2f %7.1f %7.1f\n", names[sc], n,
           sites[0].in.n_chargers, runs, median, us[(size_t)((double)runs * 0.99)],
           total / (double)runs, (double)paused / (double)runs, (double)lent / (double)runs);
    free(us);
    free(scratch);
    free(sums);
    free(alloc);
    for (int v = 0; v < n_sites; v++) {
        free(sites[v].c);
        free(sites[v].ch);
    }
    return median;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.5;
    if (!(seconds > 0))
        seconds = 0.5;
    static const size_t sizes[] = { 10, 100, 1000, 10000 };
    double at_1000[3] = { 0, 0, 0 };

    printf("%-10s %11s %9s %8s %10s %10s %10s %7s %7s\n", "scenario", "connectors", "chargers",
           "runs", "median_us", "p99_us", "mean_us", "paused", "lent");
    for (int sc = LOOP; sc <= ROOMY; sc++) {
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            double median = bench((enum scenario)sc, sizes[z], seconds);
            if (sizes[z] == 1000)
                at_1000[sc] = median;
        }
    }
    printf("target: 1,000 connectors < 100 us median: loop %.1f us, unrelated %.1f us, "
           "roomy %.1f us: %s\n", at_1000[LOOP], at_1000[UNRELATED], at_1000[ROOMY],
           at_1000[LOOP] < 100 && at_1000[UNRELATED] < 100 && at_1000[ROOMY] < 100 ? "met"
                                                                                 : "MISSED");
    return 0;
}
