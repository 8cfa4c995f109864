/* Replaying what the CSMS must see, in order, once it is reachable again
 * (offline.h): one CALL in flight at a time, throttled, refused ones parked,
 * 1.6 local transaction ids mapped to the CSMS's as its answers come. */
#include "offline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "offline_int.h"
#include "session.h"
#include "store.h"

static void offline__pump(struct session *s);

static void offline__replayed(void *ctx, const struct pending_call *call, const struct frame *f)
{
    struct session *s = ctx;
    struct store *st = s->proxy->store;
    s->offline.replaying = false;
    if (!f) {
        /* No answer: the link is gone or going; the message stays queued. */
        log_warn("proxy", "replayed message not answered charger=%s action=%s seq=%" PRId64,
                 s->id, call->action, call->tag);
        return;
    }
    if (f->type == FRAME_ERROR) {
        log_warn("proxy", "CSMS refused a replayed message, kept aside charger=%s action=%s seq=%" PRId64
                 " code=%s", s->id, call->action, call->tag, f->error_code);
        store_queue_park(st, call->tag, f->error_code);
    } else {
        struct ocpp_answer answer;
        if (strcmp(call->action, "StartTransaction") == 0 && call->tag2 < 0 &&
            ocpp_observe_result(s->version, call->action, f->payload.ptr, f->payload.len, &answer) == 0 &&
            answer.transaction_id[0]) {
            /* tag2: the local id the transaction was started with. */
            char local[64];
            snprintf(local, sizeof(local), "%" PRId64, call->tag2);
            store_tx_put(st, s->id, local, answer.transaction_id, 0);
            store_queue_rewrite_tx(st, s->id, local, answer.transaction_id, offline__rewrite_frame);
            log_info("proxy", "offline transaction has its CSMS id charger=%s local=%s csms=%s",
                     s->id, local, answer.transaction_id);
            if (!answer.accepted)
                log_warn("proxy", "CSMS did not accept the idTag of an offline transaction charger=%s local=%s",
                         s->id, local);
        }
        store_queue_remove(st, call->tag);
    }
    offline__pump(s);
}

/* Sends the oldest queued message, if the link is up, none is in flight and
 * the throttle allows; sweeps call again for what the throttle held back. */
static void offline__pump(struct session *s)
{
    struct proxy *p = s->proxy;
    if (!p->store || !s->offline.backlog || s->offline.replaying || !offline__upstream_ok(s))
        return;
    uint64_t now = uv_now(p->loop);
    if (now - s->offline.last_replay_ms < (uint64_t)p->cfg->offline.replay_interval_ms)
        return;
    struct store_msg m;
    size_t n = 0;
    if (store_queue_peek(p->store, s->id, 1, &m, &n) < 0)
        return;
    if (n == 0) {
        s->offline.backlog = false;
        log_info("proxy", "backlog replayed charger=%s", s->id);
        return;
    }
    struct frame f;
    char id[FRAME_ID_MAX + 1];
    struct pending_call call = { .on_answer = offline__replayed, .ctx = s, .tag = m.seq };
    int rc = frame_parse(m.frame, m.len, &f) == FRAME_OK ? 0 : -EINVAL;
    /* A fresh message id: the charger's may be in use again by now. */
    snprintf(id, sizeof(id), "sgr-%" PRId64, m.seq);
    size_t cap = m.len + FRAME_ID_MAX + 8;
    char *frame = rc == 0 ? malloc(cap) : NULL;
    int len = frame ? frame_write_call(frame, cap, id, f.action, f.payload.ptr, f.payload.len) : -ENOMEM;
    if (len > 0) {
        snprintf(call.id, sizeof(call.id), "%s", id);
        snprintf(call.action, sizeof(call.action), "%s", f.action);
        call.sent_ms = now;
        call.deadline_ms = now + (uint64_t)p->cfg->upstream.call_timeout_s * 1000;
        if (m.tx_local[0] && strcmp(f.action, "StartTransaction") == 0)
            call.tag2 = strtoll(m.tx_local, NULL, 10); /* for the answer: whose id it is */
        rc = pending_add(&s->to_csms, &call);
        if (rc == 0 && link_send(&s->up, frame, (size_t)len) < 0) {
            struct pending_call undo;
            pending_take(&s->to_csms, id, &undo);
            rc = -EIO;
        }
    } else if (rc == 0) {
        rc = len;
    }
    free(frame);
    if (rc == -EINVAL) {
        store_queue_park(p->store, m.seq, "unreadable");
    } else if (rc == 0) {
        /* From here the CSMS may have it: a restart resends it (at least once). */
        store_queue_attempted(p->store, m.seq);
        s->offline.replaying = true;
        s->offline.last_replay_ms = now;
        log_debug("proxy", "replaying charger=%s action=%s seq=%" PRId64, s->id, f.action, m.seq);
    }
    store_msg_free(&m);
}

/* Whether the store holds messages of this identity; how many in *depth. */
static bool offline__has_backlog(struct session *s, uint64_t *depth)
{
    *depth = 0;
    return s->proxy->store && store_queue_stats(s->proxy->store, s->id, depth, NULL, NULL) == 0 &&
           *depth > 0;
}

void offline_session_new(struct session *s)
{
    uint64_t depth;
    s->offline.backlog = offline__has_backlog(s, &depth);
    if (s->offline.backlog)
        log_info("proxy", "backlog waiting for the CSMS charger=%s messages=%" PRIu64, s->id, depth);
}

void offline_upstream_opening(struct session *s)
{
    if (s->offline.backlog)
        offline__store_held(s);
}

void offline_upstream_open(struct session *s)
{
    uint64_t depth;
    if (offline__has_backlog(s, &depth)) {
        s->offline.backlog = true;
        log_info("proxy", "replaying backlog charger=%s messages=%" PRIu64, s->id, depth);
    }
    offline__pump(s);
}

void offline_tick(struct session *s)
{
    offline__pump(s);
}

