/* The EV budget formula and the time-of-day schedule. */
#include "balancer.h"
#include "test.h"

#include <errno.h>

#define EPS 1e-9

/* A site with 230 V and nothing else set. */
static struct balancer_site site_230(void)
{
    struct balancer_site s;
    balancer_site_init(&s);
    return s;
}

TEST(init_sets_everything_unknown)
{
    struct balancer_site s = site_230();
    ASSERT_DBL_NEAR(s.voltage_v, 230.0, EPS);
    for (int i = 0; i < BALANCER_SRC_COUNT; i++) {
        ASSERT(isnan(s.cap_kw[i]));
        ASSERT(isnan(s.phase_cap_a[i]));
    }
    for (int p = 0; p < BALANCER_PHASES; p++)
        ASSERT(isnan(s.import_a[p]) && isnan(s.ev_draw_a[p]) && isnan(s.worst_other_a[p]));
    ASSERT(isnan(s.margin_kw) && isnan(s.margin_a) && isnan(s.import_kw));
    ASSERT(isnan(s.ev_draw_kw) && isnan(s.worst_other_kw));
}

TEST(no_limits_is_unbounded)
{
    struct balancer_site s = site_230();
    s.import_kw = 50;
    struct balancer_budget b;
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    for (int p = 0; p < BALANCER_PHASES; p++) {
        ASSERT(b.phase_a[p] == INFINITY);
        ASSERT_EQ(b.phase_source[p], BALANCER_SRC_NONE);
    }
    ASSERT(b.total_w == INFINITY);
    ASSERT_EQ(b.total_source, BALANCER_SRC_NONE);
    ASSERT_DBL_NEAR(b.other_w, 50000, EPS);
}

TEST(formula_per_phase)
{
    /* available = cap - (import - EV draw) - margin, phase by phase */
    struct balancer_site s = site_230();
    s.phase_cap_a[BALANCER_SRC_CONFIG] = 100;
    s.margin_a = 2;
    double import[3] = { 50, 40, 30 }, ev[3] = { 20, 20, 10 };
    for (int p = 0; p < 3; p++) {
        s.import_a[p] = import[p];
        s.ev_draw_a[p] = ev[p];
    }
    struct balancer_budget b;
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    ASSERT_DBL_NEAR(b.phase_a[0], 100 - 30 - 2, EPS);
    ASSERT_DBL_NEAR(b.phase_a[1], 100 - 20 - 2, EPS);
    ASSERT_DBL_NEAR(b.phase_a[2], 100 - 20 - 2, EPS);
    ASSERT_DBL_NEAR(b.other_a[0], 30, EPS);
    ASSERT_EQ(b.phase_source[2], BALANCER_SRC_CONFIG);
    ASSERT(b.total_w == INFINITY); /* no kW cap set */
}

TEST(formula_total)
{
    struct balancer_site s = site_230();
    s.cap_kw[BALANCER_SRC_CONFIG] = 100;
    s.margin_kw = 5;
    s.import_kw = 60;
    s.ev_draw_kw = 20;
    struct balancer_budget b;
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    ASSERT_DBL_NEAR(b.total_w, (100 - (60 - 20) - 5) * 1000.0, 1e-6);
    ASSERT_DBL_NEAR(b.other_w, 40000, 1e-6);
    ASSERT_EQ(b.total_source, BALANCER_SRC_CONFIG);
}

TEST(margin_kw_spread_over_phases)
{
    /* 6.9 kW at 230 V over three phases is 10 A per phase. */
    struct balancer_site s = site_230();
    s.phase_cap_a[BALANCER_SRC_CONFIG] = 100;
    s.cap_kw[BALANCER_SRC_CONFIG] = 69;
    s.margin_kw = 6.9;
    struct balancer_budget b;
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    for (int p = 0; p < 3; p++)
        ASSERT_DBL_NEAR(b.phase_a[p], 90, 1e-9);
    ASSERT_DBL_NEAR(b.total_w, 62100, 1e-6);
    /* An explicit per-phase margin wins over the spread one. */
    s.margin_a = 1;
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    ASSERT_DBL_NEAR(b.phase_a[1], 99, 1e-9);
    ASSERT_DBL_NEAR(b.total_w, 62100, 1e-6);
}

TEST(min_of_all_limits)
{
    static const struct {
        double kw[BALANCER_SRC_COUNT];
        double a[BALANCER_SRC_COUNT];
        double want_kw, want_a;
        enum balancer_source src_kw, src_a;
    } rows[] = {
        { { 200, 150, 120, NAN, 130 }, { 300, NAN, NAN, NAN, NAN }, 120, 300,
          BALANCER_SRC_DR, BALANCER_SRC_CONFIG },
        { { 200, NAN, NAN, 90, NAN }, { 300, 250, 260, 240, NAN }, 90, 240,
          BALANCER_SRC_CSMS, BALANCER_SRC_CSMS },
        { { 200, 150, NAN, NAN, 100 }, { 300, 200, NAN, NAN, 180 }, 100, 180,
          BALANCER_SRC_TRANSFORMER, BALANCER_SRC_TRANSFORMER },
        { { 100, 100, NAN, NAN, NAN }, { NAN, 50, 50, NAN, NAN }, 100, 50,
          BALANCER_SRC_CONFIG, BALANCER_SRC_SCHEDULE }, /* ties name the first */
        { { INFINITY, 80, NAN, NAN, NAN }, { NAN, NAN, NAN, NAN, NAN }, 80, INFINITY,
          BALANCER_SRC_SCHEDULE, BALANCER_SRC_NONE },   /* infinite reads as not set */
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct balancer_site s = site_230();
        for (int i = 0; i < BALANCER_SRC_COUNT; i++) {
            s.cap_kw[i] = rows[r].kw[i];
            s.phase_cap_a[i] = rows[r].a[i];
        }
        struct balancer_budget b;
        ASSERT_EQ(balancer_budget(&s, &b), 0);
        ASSERT_DBL_NEAR(b.total_w, rows[r].want_kw * 1000, 1e-6);
        ASSERT_EQ(b.total_source, rows[r].src_kw);
        for (int p = 0; p < 3; p++) {
            if (rows[r].want_a == INFINITY)
                ASSERT(b.phase_a[p] == INFINITY);
            else
                ASSERT_DBL_NEAR(b.phase_a[p], rows[r].want_a, 1e-9);
            ASSERT_EQ(b.phase_source[p], rows[r].src_a);
        }
    }
}

TEST(unknown_import_counts_zero_or_worst_case)
{
    struct balancer_site s = site_230();
    s.cap_kw[BALANCER_SRC_CONFIG] = 100;
    s.phase_cap_a[BALANCER_SRC_CONFIG] = 150;
    s.margin_kw = 0;
    s.margin_a = 0;
    struct balancer_budget b;
    /* No meter and no worst case: other loads count as 0. */
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    ASSERT_DBL_NEAR(b.total_w, 100000, 1e-6);
    ASSERT_DBL_NEAR(b.phase_a[0], 150, EPS);
    /* A worst case is used, per phase and in total, when the import is unknown... */
    s.worst_other_kw = 40;
    s.worst_other_a[0] = 60;
    s.worst_other_a[2] = 10;
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    ASSERT_DBL_NEAR(b.total_w, 60000, 1e-6);
    ASSERT_DBL_NEAR(b.phase_a[0], 90, EPS);
    ASSERT_DBL_NEAR(b.phase_a[1], 150, EPS);
    ASSERT_DBL_NEAR(b.phase_a[2], 140, EPS);
    /* ...and not when it is known, even if lower than the worst case. */
    s.import_kw = 10;
    s.import_a[0] = 5;
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    ASSERT_DBL_NEAR(b.total_w, 90000, 1e-6);
    ASSERT_DBL_NEAR(b.phase_a[0], 145, EPS);
    ASSERT_DBL_NEAR(b.phase_a[1], 150, EPS); /* L2 still unknown, no worst case */
}

TEST(unknown_ev_draw_counts_zero)
{
    /* Not knowing the EV draw makes all of the import count as other load. */
    struct balancer_site s = site_230();
    s.cap_kw[BALANCER_SRC_CONFIG] = 100;
    s.import_kw = 70;
    struct balancer_budget b;
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    ASSERT_DBL_NEAR(b.total_w, 30000, 1e-6);
}

TEST(total_import_derived_from_phases)
{
    struct balancer_site s = site_230();
    s.cap_kw[BALANCER_SRC_CONFIG] = 100;
    s.import_a[0] = 10;
    s.import_a[1] = 20;
    s.import_a[2] = 30;
    struct balancer_budget b;
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    ASSERT_DBL_NEAR(b.other_w, 230.0 * 60, 1e-6);
    ASSERT_DBL_NEAR(b.total_w, 100000 - 230.0 * 60, 1e-6);
    /* Only when every phase is known. */
    s.import_a[2] = NAN;
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    ASSERT_DBL_NEAR(b.total_w, 100000, 1e-6);
}

TEST(never_negative)
{
    struct balancer_site s = site_230();
    s.cap_kw[BALANCER_SRC_CONFIG] = 100;
    s.phase_cap_a[BALANCER_SRC_CONFIG] = 100;
    s.margin_kw = 5;
    s.import_kw = 120;
    for (int p = 0; p < 3; p++)
        s.import_a[p] = 150;
    struct balancer_budget b;
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    ASSERT(b.total_w == 0);
    for (int p = 0; p < 3; p++)
        ASSERT(b.phase_a[p] == 0);
    /* A negative cap (a bad DR signal) stops charging rather than being ignored. */
    s = site_230();
    s.cap_kw[BALANCER_SRC_DR] = -3;
    s.phase_cap_a[BALANCER_SRC_CSMS] = -1;
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    ASSERT(b.total_w == 0);
    ASSERT(b.phase_a[0] == 0);
    ASSERT_EQ(b.total_source, BALANCER_SRC_DR);
}

TEST(export_never_raises_the_budget)
{
    /* EV draw above the import (solar, or meters sampled apart): other loads
     * count as 0, not as a negative that would lift the budget over the cap. */
    struct balancer_site s = site_230();
    s.cap_kw[BALANCER_SRC_CONFIG] = 100;
    s.phase_cap_a[BALANCER_SRC_CONFIG] = 100;
    s.import_kw = 10;
    s.ev_draw_kw = 30;
    s.import_a[0] = -20;
    s.ev_draw_a[0] = 40;
    struct balancer_budget b;
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    ASSERT_DBL_NEAR(b.total_w, 100000, 1e-6);
    ASSERT_DBL_NEAR(b.phase_a[0], 100, EPS);
    ASSERT_DBL_NEAR(b.other_w, 0, EPS);
}

TEST(bad_voltage)
{
    struct balancer_site s = site_230();
    struct balancer_budget b;
    double bad[] = { 0, -230, NAN, INFINITY };
    s.cap_kw[BALANCER_SRC_CONFIG] = 100;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s.voltage_v = bad[i];
        memset(&b, 0x7f, sizeof b); /* garbage, as on a caller's stack */
        ASSERT_EQ(balancer_budget(&s, &b), -EINVAL);
        /* Fail-safe even if the caller ignores the error: nothing for EVs. */
        ASSERT(b.total_w == 0 && b.phase_a[0] == 0 && b.phase_a[1] == 0 && b.phase_a[2] == 0);
    }
}

TEST(conversions)
{
    ASSERT_DBL_NEAR(balancer_kw_to_phase_a(69, 230), 100, 1e-9);
    ASSERT_DBL_NEAR(balancer_phase_a_to_kw(100, 230), 69, 1e-9);
    ASSERT_DBL_NEAR(balancer_amps_to_watts(16, 3, 230), 11040, 1e-9);
    ASSERT_DBL_NEAR(balancer_amps_to_watts(16, 1, 230), 3680, 1e-9);
    ASSERT_DBL_NEAR(balancer_phase_a_to_kw(balancer_kw_to_phase_a(22, 240), 240), 22, 1e-9);
}

TEST(unlimited_budget)
{
    struct balancer_budget b;
    balancer_budget_unlimited(&b);
    ASSERT(b.total_w == INFINITY && b.phase_a[0] == INFINITY && b.phase_a[2] == INFINITY);
    ASSERT_EQ(b.total_source, BALANCER_SRC_NONE);
}

TEST(source_names)
{
    ASSERT_STR_EQ(balancer_source_name(BALANCER_SRC_DR), "demand_response");
    ASSERT_STR_EQ(balancer_source_name(BALANCER_SRC_NONE), "none");
    ASSERT_STR_EQ(balancer_source_name(BALANCER_SRC_TRANSFORMER), "transformer");
}

/* Evening peak 18:00-22:00 at 150 kW, night 22:00-06:00 (wraps) at 120 kW. */
static const struct balancer_tod_entry peak_night[] = {
    { 18 * 60, 22 * 60, 150, NAN },
    { 22 * 60, 6 * 60, 120, 200 },
};

TEST(tod_pick)
{
    static const struct { int minute; int want; } rows[] = {
        { 0, 1 }, { 359, 1 }, { 360, -1 }, { 12 * 60, -1 }, { 1079, -1 },
        { 1080, 0 }, { 1319, 0 }, { 1320, 1 }, { 1439, 1 },
        { 1440, 1 },    /* taken modulo a day */
        { -1, 1 },      /* 23:59 yesterday */
        { 1440 + 1100, 0 },
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
        ASSERT_EQ(balancer_tod_pick(peak_night, 2, rows[r].minute), rows[r].want);
    ASSERT_EQ(balancer_tod_pick(NULL, 0, 100), -1);
}

TEST(tod_pick_edges)
{
    /* from == to is all day; to == 1440 is midnight; the first match wins. */
    struct balancer_tod_entry e[] = {
        { 18 * 60, 1440, 100, NAN },
        { 600, 600, 180, NAN },
    };
    ASSERT_EQ(balancer_tod_pick(e, 2, 1439), 0);
    ASSERT_EQ(balancer_tod_pick(e, 2, 1080), 0);
    ASSERT_EQ(balancer_tod_pick(e, 2, 0), 1);
    ASSERT_EQ(balancer_tod_pick(e, 2, 599), 1);
    ASSERT_EQ(balancer_tod_pick(e, 2, 1079), 1);
    ASSERT_EQ(balancer_tod_pick(&e[1], 1, 1234), 0);
}

TEST(tod_next_boundary)
{
    static const struct { int minute; int want; } rows[] = {
        { 600, 1080 }, { 1079, 1080 }, { 1080, 1320 }, { 1200, 1320 },
        { 1320, 360 },  /* wraps to tomorrow morning */
        { 1439, 360 }, { 0, 360 }, { 360, 1080 }, { -60, 360 },
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
        ASSERT_EQ(balancer_tod_next_boundary(peak_night, 2, rows[r].minute), rows[r].want);
    /* One window: its start is the next boundary after its end, even the same
     * minute a day later. */
    ASSERT_EQ(balancer_tod_next_boundary(peak_night, 1, 1320), 1080);
    ASSERT_EQ(balancer_tod_next_boundary(peak_night, 1, 1080), 1320);
    struct balancer_tod_entry to_midnight = { 1080, 1440, 100, NAN };
    ASSERT_EQ(balancer_tod_next_boundary(&to_midnight, 1, 1200), 0);
    ASSERT_EQ(balancer_tod_next_boundary(&to_midnight, 1, 0), 1080);
    /* No windows, or only all-day ones: no boundary to wait for. */
    struct balancer_tod_entry all_day = { 300, 300, 100, NAN };
    ASSERT_EQ(balancer_tod_next_boundary(&all_day, 1, 10), -1);
    ASSERT_EQ(balancer_tod_next_boundary(NULL, 0, 10), -1);
}

TEST(tod_feeds_the_budget)
{
    /* The caller picks the entry and sets it as the schedule's cap. */
    struct balancer_site s = site_230();
    s.cap_kw[BALANCER_SRC_CONFIG] = 200;
    s.phase_cap_a[BALANCER_SRC_CONFIG] = 300;
    int at_1900 = balancer_tod_pick(peak_night, 2, 19 * 60);
    ASSERT_EQ(at_1900, 0);
    s.cap_kw[BALANCER_SRC_SCHEDULE] = peak_night[at_1900].cap_kw;
    s.phase_cap_a[BALANCER_SRC_SCHEDULE] = peak_night[at_1900].phase_a;
    struct balancer_budget b;
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    ASSERT_DBL_NEAR(b.total_w, 150000, 1e-6);
    ASSERT_EQ(b.total_source, BALANCER_SRC_SCHEDULE);
    ASSERT_DBL_NEAR(b.phase_a[0], 300, EPS); /* this window has no phase cap */
    int at_0100 = balancer_tod_pick(peak_night, 2, 60);
    s.cap_kw[BALANCER_SRC_SCHEDULE] = peak_night[at_0100].cap_kw;
    s.phase_cap_a[BALANCER_SRC_SCHEDULE] = peak_night[at_0100].phase_a;
    ASSERT_EQ(balancer_budget(&s, &b), 0);
    ASSERT_DBL_NEAR(b.total_w, 120000, 1e-6);
    ASSERT_DBL_NEAR(b.phase_a[0], 200, EPS);
    ASSERT_EQ(b.phase_source[0], BALANCER_SRC_SCHEDULE);
}

int main(void)
{
    RUN(init_sets_everything_unknown);
    RUN(no_limits_is_unbounded);
    RUN(formula_per_phase);
    RUN(formula_total);
    RUN(margin_kw_spread_over_phases);
    RUN(min_of_all_limits);
    RUN(unknown_import_counts_zero_or_worst_case);
    RUN(unknown_ev_draw_counts_zero);
    RUN(total_import_derived_from_phases);
    RUN(never_negative);
    RUN(export_never_raises_the_budget);
    RUN(bad_voltage);
    RUN(conversions);
    RUN(unlimited_budget);
    RUN(source_names);
    RUN(tod_pick);
    RUN(tod_pick_edges);
    RUN(tod_next_boundary);
    RUN(tod_feeds_the_budget);
    return test_summary();
}
