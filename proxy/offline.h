/* Internal to proxy/: keeping chargers going while the CSMS is unreachable.
 *
 * While a charger's upstream socket is down (or its backlog still replays),
 * the gateway answers the charger as a local CSMS: BootNotification,
 * Heartbeat and Authorize at once; every message the CSMS must eventually see
 * (transactions, meter values, statuses) is written to the durable queue
 * first and answered once the write is committed. When the upstream is back,
 * the backlog is replayed in order, one CALL at a time, throttled; a 1.6
 * transaction started offline gets a local id (negative, never a CSMS id),
 * which is mapped to the CSMS's id when it answers the replayed
 * StartTransaction, in queued messages and live ones, both ways, until the
 * transaction ends.
 */
#ifndef SITEGATE_OFFLINE_H
#define SITEGATE_OFFLINE_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "frame.h"
#include "pending.h"

struct proxy;
struct session;

/* Per session. */
struct offline_state {
    bool active;           /* the gateway answers in the CSMS's place until it is back */
    bool replaying;        /* a replayed CALL is in flight */
    bool backlog;          /* the queue may hold messages of this identity */
    uint64_t last_replay_ms;
    uv_timer_t throttle;   /* the next replayed CALL, at offline.replay_interval_ms */
};

/* A charger's CALL, before the relay forwards it: true when the gateway took
 * it (answered locally, now or once stored). Otherwise *rewritten, when set,
 * is the frame to forward instead (the caller frees it). */
bool offline_charger_call(struct session *s, const struct frame *f, const char *msg, size_t len,
                          char **rewritten, size_t *rewritten_len);

/* Prepares a CALL the relay forwards to the CSMS: a message the CSMS must see
 * keeps a copy of itself, so that it is stored and answered locally if the
 * link dies before the answer comes. */
int offline_track_call(struct session *s, const struct frame *f, const char *msg, size_t len,
                       struct pending_call *call);

/* A CSMS's CALL for the charger, before the relay queues it: local
 * transaction ids are put back, and SendLocalList is captured. The frame is
 * replaced when it had to be rewritten (*rewritten is then the caller's). */
void offline_csms_call(struct session *s, const struct frame *f, char **rewritten, size_t *len);

/* A new session: whether its identity left a backlog (a restart), so that
 * nothing new overtakes it. */
void offline_session_new(struct session *s);

/* The upstream socket is about to flush what it held: with a backlog, what
 * the CSMS must see moves behind it first (in order), so nothing overtakes. */
void offline_upstream_opening(struct session *s);

/* The upstream socket is open: replay what waits. */
void offline_upstream_open(struct session *s);

/* Called every sweep: replays what a throttle held back. */
void offline_tick(struct session *s);

/* Opens a session (and its upstream socket) for every identity whose backlog
 * waits in the store while its charger is not connected, so that the CSMS
 * gets it all the same; the socket closes once the backlog is replayed. */
void offline_adopt_backlogs(struct proxy *p);

#endif
