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
    uv_timer_t soon;            /* one run per loop turn, whatever woke it */
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
};

/* Starts the loop over the site; it sends limits through the proxy. */
void control_start(struct control *c, uv_loop_t *loop, struct site *site, struct proxy *proxy,
                  const struct config *cfg);

/* Asks for a run in this loop turn. */
void control_request(struct control *c);

/* Stops its timers; frees everything once they are closed. */
void control_stop(struct control *c);

#endif
