/* The relay: every frame is parsed once, checked, entered in the table of
 * CALLs in flight of the peer that must answer it, and forwarded unchanged.
 * The same rules hold in both directions; only the tables and links differ. */
#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "charger_calls.h"
#include "log.h"

/* The sides and tables a frame travels between, seen from its sender. */
struct relay_route {
    const char *from;            /* "charger" or "CSMS", for logs */
    enum session_side back;      /* toward the sender: CALLERRORs go here */
    enum session_side to;        /* toward the receiver */
    struct pending *calls_from;  /* CALLs the sender has to answer */
};

int session_send(struct session *s, enum session_side to, const char *frame, size_t len)
{
    if (to == SESSION_UP)
        return link_send(aggregate_up_link(s), frame, len);
    if (s->site)
        return aggregate_deliver(s, frame, len);
    return s->down ? link_send(&s->down->link, frame, len) : -ENOTCONN;
}

void relay_send_error(struct session *s, enum session_side to, const char *id,
                      const char *code, const char *description)
{
    char buf[FRAME_ID_MAX + FRAME_NAME_MAX + 256];
    int n = frame_write_error(buf, sizeof(buf), id, code, description);
    s->proxy->stats.refused_calls++;
    if (n > 0 && session_send(s, to, buf, (size_t)n) < 0)
        s->proxy->stats.dropped_frames++;
}

static void relay__refuse(struct session *s, const struct relay_route *r,
                          enum frame_fault fault, const struct frame *f)
{
    s->proxy->stats.bad_frames++;
    log_warn("proxy", "bad frame from=%s charger=%s reason=%s id=%s", r->from, s->id,
             frame_fault_str(fault), f->id[0] ? f->id : "-");
    const char *code = frame_fault_code(fault, f, s->version);
    const char *id = frame_fault_reply_id(fault, f, s->version);
    if (code && id)
        relay_send_error(s, r->back, id, code, frame_fault_str(fault));
}

/* A charger's CALL: in flight toward the CSMS at once (held while it is down). */
static void relay__call_to_csms(struct session *s, const struct relay_route *r,
                                const struct frame *f, const char *msg, size_t len)
{
    struct proxy *p = s->proxy;
    struct pending_call call = { .on_answer = NULL };
    snprintf(call.id, sizeof(call.id), "%s", f->id);
    snprintf(call.action, sizeof(call.action), "%s", f->action);
    call.sent_ms = uv_now(p->loop);
    /* Held while the CSMS is known to be unreachable (a connect failed or
     * the link died): answered in its place (if the gateway can) after
     * offline.hold_s rather than the whole CALL timeout. A socket that has
     * only not been opened yet (waiting for its turn in the connect pacer
     * after a restart) is not an outage: its CALLs wait the CALL timeout,
     * so that 1,000 chargers booting at once all reach the CSMS. */
    int wait_s = p->cfg->upstream.call_timeout_s;
    bool down = s->up_state != UPSTREAM_OPEN && (s->up_failures > 0 || s->offline.active);
    if (down && p->cfg->offline.hold_s < wait_s)
        wait_s = p->cfg->offline.hold_s;
    call.deadline_ms = call.sent_ms + (uint64_t)wait_s * 1000;

    int rc = offline_track_call(s, f, msg, len, &call);
    if (rc == 0)
        rc = pending_add(&s->to_csms, &call);
    if (rc < 0) {
        free(call.frame);
        relay_send_error(s, r->back, f->id, "GenericError",
                         rc == -EEXIST ? "message id already in flight" : "too many calls in flight");
        return;
    }
    rc = link_send_call(&s->up, msg, len, f->id);
    if (rc < 0) {
        struct pending_call undo;
        pending_take(&s->to_csms, f->id, &undo);
        free(undo.frame);
        p->stats.dropped_frames++;
        log_warn("proxy", "cannot forward to the CSMS charger=%s action=%s reason=%s", s->id,
                 f->action, rc == -ENOBUFS ? "queue full" : "link closing");
        relay_send_error(s, r->back, f->id, "GenericError", "CSMS unreachable");
        return;
    }
    log_debug("proxy", "call from=charger charger=%s id=%s action=%s", s->id, f->id, f->action);
}

/* A CSMS's CALL: waits its turn behind the CALLs already sent to the charger. */
static void relay__call_to_charger(struct session *s, const struct relay_route *r,
                                   const struct frame *f, const char *msg, size_t len)
{
    if (!s->down) {
        relay_send_error(s, r->back, f->id, "GenericError", "charger not connected");
        return;
    }
    if (charger_calls_has_id(s, f->id)) {
        relay_send_error(s, r->back, f->id, "GenericError", "message id already in flight");
        return;
    }
    int rc = charger_calls_push(s, f->id, f->action, msg, len, NULL, NULL, -1);
    if (rc < 0) {
        relay_send_error(s, r->back, f->id, "GenericError", "too many calls in flight");
        return;
    }
    log_debug("proxy", "call from=CSMS charger=%s id=%s action=%s", s->id, f->id, f->action);
}

/* Routes an answer to whoever sent the CALL; false when it answers none. */
static bool relay__answer(struct session *s, const struct relay_route *r, const struct frame *f,
                          const char *msg, size_t len, struct pending_call *call)
{
    struct proxy *p = s->proxy;
    if (pending_take(r->calls_from, f->id, call) < 0) {
        p->stats.unmatched_results++;
        log_info("proxy", "answer to no pending call dropped from=%s charger=%s id=%s",
                 r->from, s->id, f->id);
        return false;
    }
    if (r->calls_from == &s->to_csms)
        link_call_answered(&s->up, f->id); /* the next CALL may go (one_call links) */
    proxy__count_frame(p, r->calls_from == &s->to_csms ? PROXY_FROM_CSMS : PROXY_FROM_CHARGER, f,
                       call, uv_now(p->loop));
    if (call->on_answer && !call->relayed) {
        call->on_answer(call->ctx, call, f);
        free(call->frame);
        return true;
    }
    if (call->on_answer)
        call->on_answer(call->ctx, call, f);
    free(call->frame);
    if (session_send(s, r->to, msg, len) < 0) {
        p->stats.dropped_frames++;
        log_warn("proxy", "answer dropped from=%s charger=%s id=%s action=%s", r->from, s->id,
                 f->id, call->action);
        return true;
    }
    log_debug("proxy", "answer from=%s charger=%s id=%s action=%s ok=%d", r->from, s->id, f->id,
              call->action, f->type == FRAME_RESULT);
    return true;
}

void relay_from_charger(struct session *s, const char *msg, size_t len)
{
    const struct relay_route r = {
        .from = "charger", .back = SESSION_DOWN, .to = SESSION_UP, .calls_from = &s->to_charger,
    };
    struct frame f;
    struct pending_call call;
    s->proxy->stats.frames_from_chargers++;
    enum frame_fault fault = frame_parse(msg, len, &f);
    if (fault == FRAME_OK && f.type == FRAME_CALL)
        proxy__count_frame(s->proxy, PROXY_FROM_CHARGER, &f, NULL, 0);
    if (fault != FRAME_OK) {
        relay__refuse(s, &r, fault, &f);
    } else if (f.type == FRAME_CALL && s->proxy->agg && !s->site) {
        aggregate_charger_call(s, &f); /* up through the site's session */
        smart_charger_call(s, &f);
    } else if (f.type == FRAME_CALL) {
        char *rewritten;
        size_t rewritten_len;
        if (!offline_charger_call(s, &f, msg, len, &rewritten, &rewritten_len))
            relay__call_to_csms(s, &r, &f, rewritten ? rewritten : msg,
                                rewritten ? rewritten_len : len);
        free(rewritten);
        if (!s->site)
            smart_charger_call(s, &f);
    } else {
        relay__answer(s, &r, &f, msg, len, &call);
        charger_calls_pump(s); /* its turn is over: the next CALL may go */
    }
}

void relay_from_csms(struct session *s, const char *msg, size_t len)
{
    const struct relay_route r = {
        .from = "CSMS", .back = SESSION_UP, .to = SESSION_DOWN, .calls_from = &s->to_csms,
    };
    struct frame f;
    struct pending_call call;
    s->proxy->stats.frames_from_csms++;
    enum frame_fault fault = frame_parse(msg, len, &f);
    if (fault == FRAME_OK && f.type == FRAME_CALL)
        proxy__count_frame(s->proxy, PROXY_FROM_CSMS, &f, NULL, 0);
    if (fault != FRAME_OK) {
        relay__refuse(s, &r, fault, &f);
    } else if (f.type == FRAME_CALL && s->site) {
        aggregate_csms_call(s, &f, msg, len);
    } else if (f.type == FRAME_CALL) {
        if (smart_csms_call(s, &f))
            return;
        char *rewritten;
        size_t rewritten_len;
        offline_csms_call(s, &f, &rewritten, &rewritten_len);
        relay__call_to_charger(s, &r, &f, rewritten ? rewritten : msg,
                               rewritten ? rewritten_len : len);
        free(rewritten);
        smart_send(s);
    } else if (relay__answer(s, &r, &f, msg, len, &call)) {
        smart_csms_answer(s, &call, &f);
    }
}
