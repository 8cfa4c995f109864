#include "metering.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "meters.h"

static void metering__stale(uv_timer_t *t)
{
    struct metering *m = t->data;
    site_changed(m->site); /* the control loop sees the age and goes fail-safe */
}

static double metering__hotter(double a, double b)
{
    return isnan(a) ? b : isnan(b) ? a : fmax(a, b);
}

static void metering__on_sample(void *ctx, const struct meter_sample *s)
{
    struct metering *m = ctx;
    struct site_meters *sm = &m->site->meters;
    uint64_t now = uv_now(m->loop);
    if (s->meter >= 0 && s->meter < CONFIG_METERS_MAX) {
        if (s->ok)
            m->last_ok_ms[s->meter] = now;
        else
            m->poll_errors[s->meter]++;
        snprintf(m->last_error[s->meter], sizeof(m->last_error[s->meter]), "%s", s->ok ? "" : s->error);
    }
    if (!s->ok)
        return; /* modbus/ logs it; the reading only ages */

    switch (s->role) {
    case CONFIG_METER_GRID:
        memcpy(sm->grid_a, s->current_a, sizeof(sm->grid_a));
        sm->grid_kw = s->power_w / 1000; /* NAN: the balancer works from the currents */
        sm->grid_energy_wh = s->energy_wh;
        sm->grid_ms = now;
        sm->grid_arrival_ns = uv_hrtime();
        uv_timer_start(&m->stale, metering__stale, (uint64_t)m->cfg->site.meter_stale_s * 1000 + 1, 0);
        break;
    case CONFIG_METER_EV_SUBMETER:
        memcpy(sm->ev_a, s->current_a, sizeof(sm->ev_a));
        sm->ev_kw = s->power_w / 1000;
        sm->ev_ms = now;
        break;
    case CONFIG_METER_TRANSFORMER: {
        double temp = metering__hotter(s->oil_temp_c, s->winding_temp_c);
        if (isnan(temp))
            return;
        if (fabs(temp - sm->transformer_temp_c) >= 1.0 || !sm->transformer_ms)
            log_debug("metering", "transformer temp_c=%.1f", temp);
        sm->transformer_temp_c = temp;
        sm->transformer_ms = now;
        break;
    }
    }
    /* Every new reading re-runs the allocation: reductions go out at once. */
    site_changed(m->site);
}

int metering_start(struct metering *m, uv_loop_t *loop, struct site *site, const struct config *cfg)
{
    memset(m, 0, sizeof(*m));
    m->loop = loop;
    m->site = site;
    m->cfg = cfg;
    uv_timer_init(loop, &m->stale);
    m->stale.data = m;
    /* Stale from the start until a first reading arrives. */
    uv_timer_start(&m->stale, metering__stale, (uint64_t)cfg->site.meter_stale_s * 1000 + 1, 0);
    int rc = meters_start(&m->meters, loop, cfg, metering__on_sample, m);
    if (rc < 0)
        log_error("metering", "cannot start polling the meters: %s", uv_strerror(rc));
    return rc;
}

void metering_stop(struct metering *m)
{
    meters_stop(m->meters);
    m->meters = NULL;
    uv_close((uv_handle_t *)&m->stale, NULL);
}
