#include "conn_guard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONN_GUARD__BUCKETS 1024  /* a power of two; chains stay short up to ~10,000 addresses */
#define CONN_GUARD__ADDR_MAX 64   /* an IPv6 address with scope, as text */

struct conn_guard_addr {
    struct conn_guard_addr *next;
    unsigned count;
    char text[CONN_GUARD__ADDR_MAX];
};

static size_t conn_guard__hash(const struct conn_guard *g, const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h & (g->n_buckets - 1);
}

static struct conn_guard_addr **conn_guard__slot(const struct conn_guard *g, const char *address)
{
    struct conn_guard_addr **pp = &g->buckets[conn_guard__hash(g, address)];
    while (*pp && strcmp((*pp)->text, address) != 0)
        pp = &(*pp)->next;
    return pp;
}

int conn_guard_init(struct conn_guard *g, unsigned max_total, unsigned max_per_addr,
                    unsigned handshake_s)
{
    memset(g, 0, sizeof(*g));
    g->n_buckets = CONN_GUARD__BUCKETS;
    g->buckets = calloc(g->n_buckets, sizeof(*g->buckets));
    if (!g->buckets)
        return -ENOMEM;
    g->max_total = max_total;
    g->max_per_addr = max_per_addr;
    g->handshake_ms = (uint64_t)handshake_s * 1000;
    return 0;
}

void conn_guard_free(struct conn_guard *g, void (*forget)(void *owner))
{
    while (g->head) {
        if (forget)
            forget(g->head->owner);
        conn_guard_release(g, g->head);
    }
    free(g->buckets);
    memset(g, 0, sizeof(*g));
}

enum conn_guard_refusal conn_guard_admit(struct conn_guard *g, const char *address, void *owner,
                                         uint64_t now_ms, struct conn_guard_conn **out)
{
    *out = NULL;
    if (g->total >= g->max_total)
        return CONN_GUARD_TOO_MANY;
    struct conn_guard_addr **slot = conn_guard__slot(g, address);
    if (g->max_per_addr && *slot && (*slot)->count >= g->max_per_addr)
        return CONN_GUARD_TOO_MANY_FROM_ADDR;
    struct conn_guard_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return CONN_GUARD_TOO_MANY;
    if (!*slot) {
        struct conn_guard_addr *a = calloc(1, sizeof(*a));
        if (!a) {
            free(c);
            return CONN_GUARD_TOO_MANY;
        }
        snprintf(a->text, sizeof(a->text), "%s", address);
        *slot = a;
    }
    c->guard = g;
    c->addr = *slot;
    c->addr->count++;
    c->owner = owner;
    c->deadline_ms = now_ms + g->handshake_ms;
    c->next = g->head;
    if (g->head)
        g->head->prev = c;
    g->head = c;
    g->total++;
    *out = c;
    return CONN_GUARD_OK;
}

void conn_guard_established(struct conn_guard_conn *c)
{
    c->deadline_ms = 0;
}

void conn_guard_release(struct conn_guard *g, struct conn_guard_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    g->total--;
    if (--c->addr->count == 0) {
        struct conn_guard_addr **slot = conn_guard__slot(g, c->addr->text);
        *slot = c->addr->next;
        free(c->addr);
    }
    free(c);
}

size_t conn_guard_sweep(struct conn_guard *g, uint64_t now_ms,
                        void (*expired)(void *ctx, void *owner), void *ctx)
{
    size_t n = 0;
    for (struct conn_guard_conn *c = g->head; c; c = c->next) {
        if (c->deadline_ms && c->deadline_ms <= now_ms) {
            c->deadline_ms = 0;
            n++;
            expired(ctx, c->owner);
        }
    }
    return n;
}

unsigned conn_guard_count(const struct conn_guard *g, const char *address)
{
    if (!address)
        return g->total;
    struct conn_guard_addr *const *slot = conn_guard__slot(g, address);
    return *slot ? (*slot)->count : 0;
}
