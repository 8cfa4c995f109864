/* The site's meters on the loop: samples from modbus/ into the site model,
 * and a wake-up when the grid meter goes quiet, so that the fail-safe budget
 * takes over on time rather than at the next event. */
#ifndef SITEGATE_METERING_H
#define SITEGATE_METERING_H

#include <uv.h>

#include "config.h"
#include "meters.h"
#include "site.h"

struct meters;

struct metering {
    uv_loop_t *loop;
    struct site *site;
    const struct config *cfg;
    struct meters *meters;      /* NULL: no meter configured */
    uv_timer_t stale;
    /* Per meter (cfg->meters order), for the status API and the metrics. */
    uint64_t poll_errors[CONFIG_METERS_MAX];  /* failed readings since the start */
    uint64_t last_ok_ms[CONFIG_METERS_MAX];   /* uv_now() of its last good reading, 0: none */
    char last_error[CONFIG_METERS_MAX][METER_ERROR_MAX]; /* why its last reading failed, "" */
};

/* Starts polling the configured meters; 0 or a negative errno. */
int metering_start(struct metering *m, uv_loop_t *loop, struct site *site, const struct config *cfg);

/* Stops the workers and the timer; the loop must run once more to close them. */
void metering_stop(struct metering *m);

#endif
