#include "charger_calls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "session.h"

/* The gateway's own CALLs (profiles, configuration reads, triggers) are small. */
#define CHARGER_CALLS__OWN_MAX 2048

struct charger_call {
    struct charger_call *next;
    struct pending_call call;
    int coalesce_key;
    size_t len;
    char frame[];
};

static void charger_calls__unanswered(struct session *s, struct charger_call *c, const char *why)
{
    if (c->call.on_answer)
        c->call.on_answer(c->call.ctx, &c->call, NULL);
    else
        relay_send_error(s, SESSION_UP, c->call.id, "GenericError", why);
}

int charger_calls_push(struct session *s, const char *id, const char *action,
                       const char *frame, size_t len, pending_cb on_answer, void *ctx,
                       int coalesce_key)
{
    if (coalesce_key >= 0) {
        for (struct charger_call *q = s->calls_head; q; q = q->next) {
            if (q->coalesce_key != coalesce_key)
                continue;
            /* Same slot in the queue, fresher content: order is kept. */
            struct charger_call *fresh = malloc(sizeof(*fresh) + len);
            if (!fresh)
                return -ENOMEM;
            *fresh = *q;
            fresh->len = len;
            memcpy(fresh->frame, frame, len);
            snprintf(fresh->call.id, sizeof(fresh->call.id), "%s", id);
            fresh->call.ctx = ctx;
            struct charger_call **pp = &s->calls_head;
            while (*pp != q)
                pp = &(*pp)->next;
            *pp = fresh;
            if (s->calls_tail == q)
                s->calls_tail = fresh;
            /* The replaced CALL was never sent: its sender learns nothing new. */
            free(q);
            return 1;
        }
    }
    if (s->calls_len >= s->to_charger.max)
        return -ENOBUFS;
    struct charger_call *c = malloc(sizeof(*c) + len);
    if (!c)
        return -ENOMEM;
    memset(&c->call, 0, sizeof(c->call));
    snprintf(c->call.id, sizeof(c->call.id), "%s", id);
    snprintf(c->call.action, sizeof(c->call.action), "%s", action);
    c->call.on_answer = on_answer;
    c->call.ctx = ctx;
    c->coalesce_key = coalesce_key;
    c->len = len;
    c->next = NULL;
    memcpy(c->frame, frame, len);
    if (s->calls_tail)
        s->calls_tail->next = c;
    else
        s->calls_head = c;
    s->calls_tail = c;
    s->calls_len++;
    charger_calls_pump(s);
    return 0;
}

int charger_calls_own(struct session *s, const char *action, const char *payload, size_t len,
                      pending_cb on_answer, void *ctx, int coalesce_key)
{
    struct proxy *p = s->proxy;
    char id[FRAME_ID_MAX + 1];
    do
        snprintf(id, sizeof(id), "sg-%llx", (unsigned long long)++p->next_call_id);
    while (charger_calls_has_id(s, id));
    char frame[CHARGER_CALLS__OWN_MAX];
    int n = frame_write_call(frame, sizeof(frame), id, action, payload, len);
    if (n < 0)
        return n;
    return charger_calls_push(s, id, action, frame, (size_t)n, on_answer, ctx, coalesce_key);
}

static void charger_calls__statuses_answer(void *ctx, const struct pending_call *call,
                                           const struct frame *f)
{
    struct session *s = ctx;
    (void)call;
    if (!f || f->type != FRAME_RESULT)
        log_info("proxy", "charger will not send its statuses charger=%s answer=%s", s->id,
                 !f ? "none" : f->type == FRAME_ERROR ? f->error_code : "refused");
}

void charger_calls_ask_statuses(struct session *s)
{
    static const char payload[] = "{\"requestedMessage\":\"StatusNotification\"}";
    if (charger_calls_own(s, "TriggerMessage", payload, sizeof(payload) - 1,
                          charger_calls__statuses_answer, s, -1) < 0)
        log_warn("proxy", "cannot ask the charger for its statuses charger=%s", s->id);
    else
        charger_calls_pump(s);
}

void charger_calls_pump(struct session *s)
{
    struct proxy *p = s->proxy;
    while (s->calls_head && s->to_charger.n == 0 && s->down && !link_closing(&s->down->link)) {
        struct charger_call *c = s->calls_head;
        s->calls_head = c->next;
        if (!s->calls_head)
            s->calls_tail = NULL;
        s->calls_len--;

        c->call.sent_ms = uv_now(p->loop);
        c->call.deadline_ms = c->call.sent_ms + (uint64_t)p->cfg->upstream.call_timeout_s * 1000;
        if (pending_add(&s->to_charger, &c->call) < 0 ||
            link_send(&s->down->link, c->frame, c->len) < 0) {
            struct pending_call undo;
            pending_take(&s->to_charger, c->call.id, &undo);
            p->stats.dropped_frames++;
            log_warn("proxy", "cannot send to charger charger=%s action=%s", s->id, c->call.action);
            charger_calls__unanswered(s, c, "charger unreachable");
        }
        free(c);
    }
}

void charger_calls_drop(struct session *s)
{
    struct charger_call *c = s->calls_head;
    s->calls_head = s->calls_tail = NULL;
    s->calls_len = 0;
    while (c) {
        struct charger_call *next = c->next;
        charger_calls__unanswered(s, c, "charger not connected");
        free(c);
        c = next;
    }
}

int charger_calls_has_id(const struct session *s, const char *id)
{
    if (pending_has(&s->to_charger, id))
        return 1;
    for (const struct charger_call *c = s->calls_head; c; c = c->next)
        if (strcmp(c->call.id, id) == 0)
            return 1;
    return 0;
}
