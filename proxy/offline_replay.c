/* Replaying what the CSMS must see, in order, once it is reachable again
 * (offline.h): one CALL in flight at a time, throttled, refused ones parked,
 * 1.6 local transaction ids mapped to the CSMS's as its answers come. */
#include "offline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "charger_calls.h"
#include "log.h"
#include "offline_int.h"
#include "session.h"
#include "store.h"

static void offline__pump(struct session *s);

static void offline__throttled(uv_timer_t *t)
{
    offline__pump(t->data);
}

/* A queued message of a transaction started offline whose CSMS id is known
 * by now: sent with that id (*out NULL: as it is). Done as each message goes,
 * so that the CSMS's answer to a long transaction's start never stalls the
 * loop rewriting all of it at once. */
static void offline__translate_queued(struct session *s, const struct store_msg *m, char **out,
                                      size_t *out_len)
{
    char real[STORE_TX_MAX];
    *out = NULL;
    if (!m->tx_local[0] || strcmp(m->action, "StartTransaction") == 0 ||
        store_tx_get_real(s->proxy->store, s->id, m->tx_local, real, sizeof(real)) < 0 || !real[0])
        return;
    if (offline__rewrite_frame(m->frame, m->len, real, out, out_len) < 0)
        log_warn("proxy", "cannot give a replayed message its CSMS transaction id charger=%s seq=%" PRId64,
                 s->id, m->seq);
}

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
            /* The queued messages of the transaction get the CSMS's id as
             * they are sent (offline__pump), not all at once here. */
            store_tx_put(st, s->id, local, answer.transaction_id, 0);
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
    uint64_t every = (uint64_t)p->cfg->offline.replay_interval_ms;
    if (now - s->offline.last_replay_ms < every) {
        if (!uv_is_active((uv_handle_t *)&s->offline.throttle))
            uv_timer_start(&s->offline.throttle, offline__throttled, every - (now - s->offline.last_replay_ms), 0);
        return;
    }
    struct store_msg m;
    size_t n = 0;
    if (store_queue_peek(p->store, s->id, 1, &m, &n) < 0)
        return;
    if (n == 0) {
        s->offline.backlog = false;
        log_info("proxy", "backlog replayed charger=%s", s->id);
        if (s->site)
            aggregate_replayed(s);
        else if (s->down)
            charger_calls_ask_statuses(s); /* the backlog's last word may be old */
        else
            csms_side_close(s, LINK_CLOSE_NORMAL); /* it was open for the backlog only */
        return;
    }
    struct frame f;
    char id[FRAME_ID_MAX + 1];
    struct pending_call call = { .on_answer = offline__replayed, .ctx = s, .tag = m.seq };
    char *translated = NULL;
    size_t translated_len = 0;
    offline__translate_queued(s, &m, &translated, &translated_len);
    const char *text = translated ? translated : m.frame;
    size_t text_len = translated ? translated_len : m.len;
    int rc = frame_parse(text, text_len, &f) == FRAME_OK ? 0 : -EINVAL;
    /* A fresh message id: the charger's may be in use again by now. */
    snprintf(id, sizeof(id), "sgr-%" PRId64, m.seq);
    size_t cap = text_len + FRAME_ID_MAX + 8;
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
        if (rc == 0 && link_send_call(&s->up, frame, (size_t)len, id) < 0) {
            struct pending_call undo;
            pending_take(&s->to_csms, id, &undo);
            rc = -EIO;
        }
    } else if (rc == 0) {
        rc = len;
    }
    free(frame);
    free(translated);
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

/* The OCPP version a backlog was written in, from its oldest message: only
 * 2.0.1 has TransactionEvent, and its MeterValues and StatusNotification
 * carry an evseId, which 1.6's never do. */
static enum ocpp_version offline__backlog_version(struct session *s)
{
    struct store_msg m;
    size_t n = 0;
    enum ocpp_version v = OCPP_16;
    if (store_queue_peek(s->proxy->store, s->id, 1, &m, &n) < 0 || n == 0)
        return v;
    struct frame f;
    if (frame_parse(m.frame, m.len, &f) == FRAME_OK) {
        cJSON *payload = cJSON_ParseWithLength(f.payload.ptr, f.payload.len);
        if (strcmp(f.action, "TransactionEvent") == 0 ||
            cJSON_GetObjectItemCaseSensitive(payload, "evseId"))
            v = OCPP_201;
        cJSON_Delete(payload);
    }
    store_msg_free(&m);
    return v;
}

void offline_adopt_backlogs(struct proxy *p)
{
    /* Aggregate mode has one identity, the site's, and its session. */
    if (!p->store || p->draining || p->agg)
        return;
    /* At most one identity per configured charger, or the unknown ones seen. */
    size_t max = p->cfg->n_chargers + p->n_sessions + 64, n = 0;
    char (*ids)[STORE_IDENTITY_MAX] = malloc(max * sizeof(*ids));
    if (!ids || store_queue_identities(p->store, ids, max, &n) < 0) {
        free(ids);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (proxy__find(p, ids[i]))
            continue;
        const struct config_charger *cfg = config_find_charger(p->cfg, ids[i]);
        struct session *s = proxy__session_new(p, ids[i], cfg ? cfg : &p->cfg->charger_defaults);
        if (!s) {
            log_error("proxy", "out of memory charger=%s", ids[i]);
            break;
        }
        s->version = offline__backlog_version(s);
        log_info("proxy", "replaying the backlog of a charger that is not connected charger=%s ocpp=%s",
                 s->id, ocpp_version_subprotocol(s->version));
        csms_side_connect(s);
    }
    free(ids);
}

