#include "pending.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void pending_init(struct pending *p, size_t max)
{
    memset(p, 0, sizeof(*p));
    p->max = max;
}

void pending_free(struct pending *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->calls[i].frame);
    free(p->calls);
    memset(p, 0, sizeof(*p));
}

static long pending__find(const struct pending *p, const char *id)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->calls[i].id, id) == 0)
            return (long)i;
    return -1;
}

int pending_has(const struct pending *p, const char *id)
{
    return pending__find(p, id) >= 0;
}

int pending_add(struct pending *p, const struct pending_call *call)
{
    if (pending__find(p, call->id) >= 0)
        return -EEXIST;
    if (p->n >= p->max)
        return -ENOBUFS;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4;
        if (cap > p->max)
            cap = p->max;
        struct pending_call *grown = realloc(p->calls, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        p->calls = grown;
        p->cap = cap;
    }
    p->calls[p->n++] = *call;
    return 0;
}

/* The table keeps the order CALLs were sent in: what expires or is abandoned
 * together is handled oldest first (the offline path stores it in that order).
 * Tables are small and bounded, so the shift is cheap. */
static void pending__remove(struct pending *p, size_t i)
{
    memmove(&p->calls[i], &p->calls[i + 1], (p->n - i - 1) * sizeof(p->calls[0]));
    p->n--;
}

int pending_take(struct pending *p, const char *id, struct pending_call *out)
{
    long i = pending__find(p, id);
    if (i < 0)
        return -ENOENT;
    *out = p->calls[i];
    pending__remove(p, (size_t)i);
    return 0;
}

size_t pending_expire(struct pending *p, uint64_t now_ms)
{
    size_t expired = 0;
    for (size_t i = 0; i < p->n;) {
        if (p->calls[i].deadline_ms > now_ms) {
            i++;
            continue;
        }
        struct pending_call call = p->calls[i];
        pending__remove(p, i);
        expired++;
        /* The callback may add CALLs to this very table: it runs on a copy. */
        if (call.on_answer)
            call.on_answer(call.ctx, &call, NULL);
        free(call.frame);
    }
    return expired;
}

void pending_hurry_relayed(struct pending *p, uint64_t wait_ms)
{
    for (size_t i = 0; i < p->n; i++) {
        struct pending_call *c = &p->calls[i];
        if ((!c->on_answer || c->relayed) && c->deadline_ms > c->sent_ms + wait_ms)
            c->deadline_ms = c->sent_ms + wait_ms;
    }
}

size_t pending_abandon(struct pending *p)
{
    size_t n = 0;
    while (p->n) {
        struct pending_call call = p->calls[0];
        pending__remove(p, 0);
        n++;
        if (call.on_answer)
            call.on_answer(call.ctx, &call, NULL);
        free(call.frame);
    }
    return n;
}
