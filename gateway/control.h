/* The control loop: from the site's state and limits to each charger's limit.
 *
 * Runs the balancer whenever something it reads changes (at most once per
 * loop turn), at the time-of-day schedule's boundaries, and when a held-back
 * increase becomes due. Decreases go out at once; increases only when larger
 * than balancer.deadband_a and no sooner than balancer.increase_interval_s
 * after the charger's last increase.
 */
#ifndef SITEGATE_CONTROL_H
#define SITEGATE_CONTROL_H

#include <uv.h>

#include "balancer.h"
#include "site.h"

struct proxy;

#define CONTROL_MAX_TOD 48 /* config: site.schedule has at most 48 entries */

struct control {
    uv_loop_t *loop;
    struct site *site;
    struct proxy *proxy;
    const struct config *cfg;
    uv_timer_t soon;            /* the next run: this loop turn, or coalesced (site_changed_soon) */
    uv_timer_t schedule;        /* the next time-of-day boundary */
    uv_timer_t increase;        /* the next held-back increase */
    struct balancer_tod_entry tod[CONTROL_MAX_TOD];
    size_t n_tod;
    struct balancer_connector *in;
    struct balancer_charger *chargers;
    struct balancer_allocation *out;
    struct balancer_charger_sum *sums;
    uint32_t *conn_charger;     /* site charger index of each balancer connector */
    void *scratch;
    size_t cap;                 /* connectors the arrays hold */
    size_t cap_chargers;
    int open_handles;
    bool grid_stale;            /* the fail-safe is on (logged once per change) */
    bool overcommitted;         /* likewise: uncontrolled draw above the budget */
    double dr_kw;               /* the demand-response limit (gateway/dr.c), NAN: none */
    double cap_other_kw;        /* the lowest other site cap at the last run, NAN: none */
    /* The last run, for the status API and the metrics (read-only there). */
    double caps_kw[BALANCER_SRC_COUNT];      /* each site cap, kW; NAN: not set */
    double phase_caps_a[BALANCER_SRC_COUNT]; /* each per-phase cap, A; NAN: not set */
    struct balancer_budget budget;           /* what the EVs could have */
    struct balancer_summary summary;         /* what they got, and what bound */
    size_t n_out;                            /* connectors in out[] (site order); 0: no run yet */
};

/* The site as demand-response reports see it, in kW (NAN: unknown). */
struct control_report {
    double import_kw;   /* grid import; without a grid meter, the EV load */
    double ev_kw;       /* the chargers' load */
    double cap_kw;      /* the lowest site cap in force, the DR limit included */
    double flex_kw;     /* the load of the chargers the gateway steers: what it could shed */
};

/* Starts the loop over the site; it sends limits through the proxy. */
void control_start(struct control *c, uv_loop_t *loop, struct site *site, struct proxy *proxy,
                  const struct config *cfg);

/* Asks for a run in this loop turn. */
void control_request(struct control *c);

/* Sets the demand-response limit on the site's import (kW, NAN: none) and
 * asks for a run. */
void control_set_dr_limit(struct control *c, double kw);

/* What the site draws and may draw now (read-only). */
void control_report(const struct control *c, struct control_report *out);

/* The config was reloaded in place (site caps, schedule, charger limits):
 * takes the schedule again and asks for a run. */
void control_reload(struct control *c);

/* Stops its timers; frees everything once they are closed. */
void control_stop(struct control *c);

#endif
