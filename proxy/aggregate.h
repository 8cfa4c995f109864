/* Internal to proxy/: aggregate mode, the whole site as one charge point.
 *
 * One upstream socket, the site session's (identity site.id, OCPP 1.6J),
 * carries every charger's traffic. Chargers' Boot and Heartbeat are answered
 * here; their other CALLs get their connector ids mapped to site connector
 * numbers (agg_map.h) and a message id of the site's ("a<hex>"), and go up
 * through the site session as if one charger sent them, so that all of the
 * outage handling (hold, local answers, the durable queue, replay,
 * transaction ids) works on the site's identity. Their answers come back
 * through aggregate_deliver(). The CSMS's CALLs are routed to the charger
 * that owns the connector, or answered by the gateway (agg_csms.c).
 */
#ifndef SITEGATE_AGGREGATE_H
#define SITEGATE_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>

struct frame;
struct proxy;
struct session;

/* Aggregate mode only, once the store is set: the numbering, the site
 * session and its upstream socket. 0 or a negative errno. */
int aggregate_start(struct proxy *p);

/* Frees what aggregate_start made (the site session goes with the others). */
void aggregate_free(struct proxy *p);

/* A charger's CALL (the charger's session): answered here or sent up
 * through the site session. */
void aggregate_charger_call(struct session *c, const struct frame *f);

/* A charger connected (up) or left. */
void aggregate_charger_link(struct session *c, bool up);

/* A CSMS's CALL to the site: routed to a charger or answered. */
void aggregate_csms_call(struct session *site, const struct frame *f, const char *msg, size_t len);

/* A frame toward the chargers of the site session: the answer to one of
 * their CALLs, sent to the charger that made it with its own message id.
 * -ENOTCONN when that charger is gone. */
int aggregate_deliver(struct session *site, const char *frame, size_t len);

/* The link toward the CSMS of a session: its own, or in aggregate mode the
 * site's for a charger's session. */
struct link *aggregate_up_link(struct session *s);

/* The site's socket to the CSMS just opened (before what was held is sent):
 * the site's BootNotification goes first. */
void aggregate_upstream_opening(struct session *site);

/* The site's socket closed. */
void aggregate_upstream_closed(struct session *site);

/* Whether the CSMS accepted the site's BootNotification on this socket
 * (until then no replay). */
bool aggregate_booted(const struct session *site);

/* The site's session is being freed (shutdown). */
void aggregate_site_released(struct session *site);

/* The backlog was replayed: the CSMS gets every connector's status now. */
void aggregate_replayed(struct session *site);

#endif
