/* Internal to proxy/: CALLs toward one charger, one in flight at a time.
 *
 * OCPP-J asks that a peer not send a CALL while one of its CALLs is still
 * unanswered. Toward a charger two parties send CALLs, the CSMS and the
 * gateway itself, so they queue here, in order, and go one by one. A gateway
 * CALL that a newer one supersedes (a fresher limit for the same profile)
 * is replaced in the queue instead of sent twice.
 */
#ifndef SITEGATE_CHARGER_CALLS_H
#define SITEGATE_CHARGER_CALLS_H

#include <stddef.h>

#include "pending.h"

struct session;

/* Queues a CALL frame (whole text) for the charger. on_answer NULL means the
 * CSMS sent it and its answer goes back upstream. coalesce_key >= 0 replaces
 * a queued, unsent CALL with the same key. 0 when queued, 1 when it replaced
 * one (whose callback will then never be called), -ENOBUFS or -ENOMEM. */
int charger_calls_push(struct session *s, const char *id, const char *action,
                       const char *frame, size_t len, pending_cb on_answer, void *ctx,
                       int coalesce_key);

/* Queues a CALL of the gateway's own (payload: the JSON object), under a
 * fresh "sg-<hex>" message id; its answer goes to on_answer(ctx, ...).
 * Returns as charger_calls_push, or -ENOBUFS when the frame is too large. */
int charger_calls_own(struct session *s, const char *action, const char *payload, size_t len,
                      pending_cb on_answer, void *ctx, int coalesce_key);

/* Asks the charger (TriggerMessage StatusNotification, for all connectors:
 * no connectorId in 1.6, no evse in 2.0.1) for its statuses now; they reach
 * the CSMS as usual. */
void charger_calls_ask_statuses(struct session *s);

/* Sends the next queued CALL if none is in flight. */
void charger_calls_pump(struct session *s);

/* The charger went away: answers the CSMS's queued CALLs with an error and
 * calls back the gateway's with no answer. */
void charger_calls_drop(struct session *s);

/* Whether a queued or in-flight CALL toward the charger has this id. */
int charger_calls_has_id(const struct session *s, const char *id);

#endif
