/* The status listener: the status API, Prometheus metrics and the dashboard,
 * on their own address (config "status"), served by libwebsockets on the
 * gateway's loop as a second vhost of the same context.
 *
 *   GET /                    the dashboard (assets compiled into the binary)
 *   GET /api/status          the whole site, JSON
 *   GET /api/chargers/<id>   one charger, JSON (404 for an unknown id)
 *   GET /api/history         the last hour, one sample a second, JSON
 *   GET /api/stream          Server-Sent Events: /api/status once a second
 *   GET /metrics             Prometheus text exposition format 0.0.4
 *
 * With status.token_file, /api/... and /metrics ask for
 * "Authorization: Bearer <token>" (401 without it); the dashboard's page
 * itself holds no data and asks the browser for the token.
 */
#ifndef SITEGATE_STATUS_H
#define SITEGATE_STATUS_H

#include <uv.h>

struct config;
struct control;
struct dr;
struct lws_context;
struct metering;
struct proxy;
struct reload;
struct site;
struct store;

/* What the status reads (never changes). Any but cfg, site, control and
 * proxy may be NULL. */
struct status_sources {
    const struct config *cfg;
    const struct site *site;
    const struct control *control;
    const struct proxy *proxy;
    struct store *store;
    const struct dr *dr;
    const struct metering *metering;
    const struct reload *reload;
};

struct status;

/* Starts listening when the config has a status section (else *out is NULL
 * and nothing runs). 0, or -EADDRINUSE when it cannot listen, -ENOMEM. */
int status_start(struct status **out, uv_loop_t *loop, struct lws_context *ctx,
                 const struct status_sources *src);

/* The gateway is stopping: no more reads of its state (the API answers 503)
 * and the timer closes. Call before the control loop and the meters stop.
 * NULL is a no-op. */
void status_stop(struct status *st);

/* Frees it, after the lws context is destroyed and the loop has run its
 * close callbacks. NULL is a no-op. */
void status_free(struct status *st);

#endif
