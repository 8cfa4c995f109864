/* Internal to gateway/status*.c: the listener's state, the site as it is
 * now, and the builders of each answer. */
#ifndef SITEGATE_STATUS_INT_H
#define SITEGATE_STATUS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>
#include <uv.h>

#include "history.h"
#include "status.h"

struct status_conn;

enum status_route {
    STATUS_R_ASSET, STATUS_R_STATUS, STATUS_R_CHARGER, STATUS_R_HISTORY, STATUS_R_STREAM,
    STATUS_R_METRICS, STATUS_R_OTHER, STATUS_ROUTES
};

struct status {
    uv_loop_t *loop;
    struct status_sources src;
    struct lws_vhost *vhost;
    struct lws_protocols protocols[2];
    uv_timer_t tick;                /* history sample and stream update, every second */
    bool stopping;
    struct history history;
    struct status_conn *streams;    /* live streams, newest first */
    size_t n_streams;
    uint64_t started_ms;            /* uv_now() at the start */
    uint64_t requests[STATUS_ROUTES];
    uint64_t unauthorized;          /* requests refused for a missing or wrong token */
};

/* The site's totals now, in kW (NAN: unknown). */
struct status_now {
    double import_kw;   /* grid import (without a grid meter: the EV load) */
    double ev_kw;
    double cap_kw;      /* the lowest site cap in force, demand response included */
    double budget_kw;   /* what the EVs may draw (INFINITY: no kW cap) */
};

/* The totals now (status_json.c). */
void status_now(const struct status *st, struct status_now *out);

/* Bodies, malloc'd (NULL: out of memory), *len set. */
char *status_json_site(const struct status *st, size_t *len);
/* -ENOENT for an unknown charger (*body NULL), -ENOMEM. */
int status_json_charger(const struct status *st, const char *id, char **body, size_t *len);
char *status_json_history(const struct status *st, size_t *len);
char *status_metrics(const struct status *st, size_t *len);    /* status_metrics.c */

/* Names shared by the JSON and the metrics (status_json.c). */
const char *status_state_name(int balancer_state);
/* A meter's state now: "ok", "stale" (no good reading for meter_stale_s),
 * "waiting" (none yet, still within meter_stale_s of the start). */
const char *status_meter_state(const struct status *st, size_t i, double *age_s);

/* The dashboard's files, compiled in (status_assets.c, generated). */
struct status_asset {
    const char *path;
    const char *type;
    const unsigned char *data;
    size_t len;
};
extern const struct status_asset status_assets[];
extern const size_t status_n_assets;

#endif
