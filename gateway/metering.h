/* The site's meters on the loop: samples from modbus/ into the site model,
 * and a wake-up when the grid meter goes quiet, so that the fail-safe budget
 * takes over on time rather than at the next event. */
#ifndef SITEGATE_METERING_H
#define SITEGATE_METERING_H

#include <uv.h>

#include "config.h"
#include "site.h"

struct meters;

struct metering {
    uv_loop_t *loop;
    struct site *site;
    const struct config *cfg;
    struct meters *meters;      /* NULL: no meter configured */
    uv_timer_t stale;
};

/* Starts polling the configured meters; 0 or a negative errno. */
int metering_start(struct metering *m, uv_loop_t *loop, struct site *site, const struct config *cfg);

/* Stops the workers and the timer; the loop must run once more to close them. */
void metering_stop(struct metering *m);

#endif
