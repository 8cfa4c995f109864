/* The workers' mailbox: a ring per meter under one mutex. Held only to copy a
 * sample in or out, never across I/O or a callback. */
#include "mailbox.h"

#include <errno.h>
#include <stdlib.h>

int mailbox_init(struct mailbox *mb, size_t n_meters)
{
    mb->rings = calloc(n_meters ? n_meters : 1, sizeof(*mb->rings));
    if (!mb->rings)
        return -ENOMEM;
    int rc = pthread_mutex_init(&mb->lock, NULL);
    if (rc) {
        free(mb->rings);
        mb->rings = NULL;
        return -rc;
    }
    mb->n_meters = n_meters;
    mb->dropped = 0;
    return 0;
}

void mailbox_destroy(struct mailbox *mb)
{
    if (!mb->rings)
        return;
    pthread_mutex_destroy(&mb->lock);
    free(mb->rings);
    mb->rings = NULL;
}

static bool mailbox__empty(const struct mailbox *mb)
{
    for (size_t i = 0; i < mb->n_meters; i++) {
        if (mb->rings[i].count)
            return false;
    }
    return true;
}

bool mailbox_post(struct mailbox *mb, const struct meter_sample *s)
{
    if (s->meter < 0 || (size_t)s->meter >= mb->n_meters)
        return false;
    pthread_mutex_lock(&mb->lock);
    bool was_empty = mailbox__empty(mb);
    struct mailbox__ring *r = &mb->rings[s->meter];
    if (r->count == MAILBOX_DEPTH) {
        r->head = (r->head + 1) % MAILBOX_DEPTH;
        r->count--;
        mb->dropped++;
    }
    r->s[(r->head + r->count) % MAILBOX_DEPTH] = *s;
    r->count++;
    pthread_mutex_unlock(&mb->lock);
    return was_empty;
}

size_t mailbox_take(struct mailbox *mb, struct meter_sample *out, size_t cap)
{
    size_t n = 0;
    pthread_mutex_lock(&mb->lock);
    for (size_t i = 0; i < mb->n_meters && n < cap; i++) {
        struct mailbox__ring *r = &mb->rings[i];
        while (r->count && n < cap) {
            out[n++] = r->s[r->head];
            r->head = (r->head + 1) % MAILBOX_DEPTH;
            r->count--;
        }
    }
    pthread_mutex_unlock(&mb->lock);
    return n;
}

uint64_t mailbox_dropped(struct mailbox *mb)
{
    pthread_mutex_lock(&mb->lock);
    uint64_t d = mb->dropped;
    pthread_mutex_unlock(&mb->lock);
    return d;
}
