/* The EV budget: what the site's limits leave for the chargers right now, and
 * the time-of-day schedule that supplies one of those limits.
 *
 *   available = min(every site limit that is set) - (grid import - EV draw) - margin
 *
 * per phase in A and in total in W. Every rule here leans to the safe side:
 * an unknown import counts the configured worst case of the other loads,
 * "other loads" never count below zero (export from solar, or a sub-meter
 * sampled a moment apart from the grid meter, must not raise the budget above
 * the caps), and the result is never negative.
 */
#include "balancer.h"

#include <errno.h>
#include <math.h>

#define BALANCER__DAY_MIN 1440

void balancer_site_init(struct balancer_site *site)
{
    site->voltage_v = 230.0;
    for (int s = 0; s < BALANCER_SRC_COUNT; s++) {
        site->cap_kw[s] = NAN;
        site->phase_cap_a[s] = NAN;
    }
    site->margin_kw = NAN;
    site->margin_a = NAN;
    for (int p = 0; p < BALANCER_PHASES; p++) {
        site->import_a[p] = NAN;
        site->ev_draw_a[p] = NAN;
        site->worst_other_a[p] = NAN;
    }
    site->import_kw = NAN;
    site->ev_draw_kw = NAN;
    site->worst_other_kw = NAN;
}

void balancer_budget_unlimited(struct balancer_budget *out)
{
    for (int p = 0; p < BALANCER_PHASES; p++) {
        out->phase_a[p] = INFINITY;
        out->phase_source[p] = BALANCER_SRC_NONE;
        out->other_a[p] = 0;
    }
    out->total_w = INFINITY;
    out->total_source = BALANCER_SRC_NONE;
    out->other_w = 0;
}

/* The lowest cap that is set, and which source it came from; INFINITY and
 * BALANCER_SRC_NONE if none is. On a tie the earlier source is named. */
static double balancer__lowest_cap(const double caps[BALANCER_SRC_COUNT],
                                   enum balancer_source *source)
{
    double lowest = INFINITY;
    *source = BALANCER_SRC_NONE;
    for (int s = 0; s < BALANCER_SRC_COUNT; s++) {
        double cap = caps[s];
        if (isnan(cap) || cap == INFINITY)
            continue;
        if (cap < 0)
            cap = 0; /* a nonsensical negative cap stops charging, it is not ignored */
        if (cap < lowest) {
            lowest = cap;
            *source = (enum balancer_source)s;
        }
    }
    return lowest;
}

/* NAN (unknown / not set) reads as zero here. */
static double balancer__or_zero(double v)
{
    return isfinite(v) ? v : 0.0;
}

/* What the other loads are counted at: the measured import minus the EVs'
 * share of it, or the worst case the caller gave when the import is unknown. */
static double balancer__other_load(double import, double ev_draw, double worst_other)
{
    double other = isfinite(import) ? import - balancer__or_zero(ev_draw)
                                    : balancer__or_zero(worst_other);
    return other > 0 ? other : 0.0;
}

/* cap - other - margin, never negative; an unbounded cap stays unbounded. */
static double balancer__available(double cap, double other, double margin)
{
    if (cap == INFINITY)
        return INFINITY;
    double avail = cap - other - margin;
    return avail > 0 ? avail : 0.0;
}

int balancer_budget(const struct balancer_site *site, struct balancer_budget *out)
{
    double v = site->voltage_v;
    if (!isfinite(v) || v <= 0) {
        /* Fail safe even for a caller that does not check: nothing for EVs. */
        for (int p = 0; p < BALANCER_PHASES; p++) {
            out->phase_a[p] = 0;
            out->phase_source[p] = BALANCER_SRC_NONE;
            out->other_a[p] = 0;
        }
        out->total_w = 0;
        out->total_source = BALANCER_SRC_NONE;
        out->other_w = 0;
        return -EINVAL;
    }

    double margin_w = balancer__or_zero(site->margin_kw) * 1000.0;
    if (margin_w < 0)
        margin_w = 0;
    /* A margin given in kW is spread evenly over the three phases. */
    double margin_a = isfinite(site->margin_a) ? site->margin_a : margin_w / (3.0 * v);
    if (margin_a < 0)
        margin_a = 0;

    enum balancer_source phase_src;
    double phase_cap = balancer__lowest_cap(site->phase_cap_a, &phase_src);
    for (int p = 0; p < BALANCER_PHASES; p++) {
        out->other_a[p] = balancer__other_load(site->import_a[p], site->ev_draw_a[p],
                                               site->worst_other_a[p]);
        out->phase_a[p] = balancer__available(phase_cap, out->other_a[p], margin_a);
        out->phase_source[p] = phase_src;
    }

    /* A meter that gives only phase currents still gives the total: V * I
     * per phase is apparent power, never below the real power, so this errs
     * on the safe side. (The EV draw is not derived the same way: that would
     * err on the unsafe side.) */
    double import_w = site->import_kw * 1000.0;
    if (isnan(import_w) && isfinite(site->import_a[0]) && isfinite(site->import_a[1])
        && isfinite(site->import_a[2]))
        import_w = v * (site->import_a[0] + site->import_a[1] + site->import_a[2]);
    out->other_w = balancer__other_load(import_w, site->ev_draw_kw * 1000.0,
                                        site->worst_other_kw * 1000.0);
    double total_cap_kw = balancer__lowest_cap(site->cap_kw, &out->total_source);
    out->total_w = balancer__available(total_cap_kw * 1000.0, out->other_w, margin_w);
    return 0;
}

double balancer_kw_to_phase_a(double kw, double voltage_v)
{
    return kw * 1000.0 / (3.0 * voltage_v);
}

double balancer_phase_a_to_kw(double a, double voltage_v)
{
    return 3.0 * voltage_v * a / 1000.0;
}

double balancer_amps_to_watts(double amps, int phases, double voltage_v)
{
    return amps * voltage_v * (double)phases;
}

/* ---------------------------------------------------------- time of day -- */

static int balancer__day_minute(int minute)
{
    int m = minute % BALANCER__DAY_MIN;
    return m < 0 ? m + BALANCER__DAY_MIN : m;
}

static int balancer__tod_contains(const struct balancer_tod_entry *e, int minute)
{
    int from = balancer__day_minute(e->from_min);
    int to = balancer__day_minute(e->to_min);
    if (from < to)
        return minute >= from && minute < to;
    return minute >= from || minute < to; /* wraps past midnight; from == to: all day */
}

int balancer_tod_pick(const struct balancer_tod_entry *entries, size_t n, int minute_of_day)
{
    int minute = balancer__day_minute(minute_of_day);
    for (size_t i = 0; i < n && i < (size_t)INT32_MAX; i++)
        if (balancer__tod_contains(&entries[i], minute))
            return (int)i;
    return -1;
}

int balancer_tod_next_boundary(const struct balancer_tod_entry *entries, size_t n,
                               int minute_of_day)
{
    int minute = balancer__day_minute(minute_of_day);
    int best = BALANCER__DAY_MIN + 1; /* minutes from now */
    for (size_t i = 0; i < n; i++) {
        int from = balancer__day_minute(entries[i].from_min);
        int to = balancer__day_minute(entries[i].to_min);
        if (from == to)
            continue; /* all day: it never starts or ends */
        int edges[2] = { from, to };
        for (int k = 0; k < 2; k++) {
            int ahead = balancer__day_minute(edges[k] - minute);
            if (ahead == 0)
                ahead = BALANCER__DAY_MIN; /* strictly after: the same minute tomorrow */
            if (ahead < best)
                best = ahead;
        }
    }
    if (best > BALANCER__DAY_MIN)
        return -1;
    return balancer__day_minute(minute + best);
}
