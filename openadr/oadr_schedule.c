/* The demand-response schedule (oadr_schedule.h): versions, cancellations,
 * and the limit in force. */
#include "oadr_schedule.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "oadr_time.h"

void oadr_schedule_init(struct oadr_schedule *s, double cap_kw,
                        const double shed[OADR_SIMPLE_LEVELS])
{
    memset(s, 0, sizeof(*s));
    s->cap_kw = cap_kw;
    for (int i = 0; i < OADR_SIMPLE_LEVELS; i++)
        s->shed[i] = shed[i];
}

static struct oadr_entry *oadr__find(struct oadr_schedule *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->entries[i].ev.id, id) == 0)
            return &s->entries[i];
    }
    return NULL;
}

const struct oadr_entry *oadr_schedule_find(const struct oadr_schedule *s, const char *id)
{
    return oadr__find((struct oadr_schedule *)s, id);
}

static struct oadr_tombstone *oadr__tomb(struct oadr_schedule *s, const char *id)
{
    for (size_t i = 0; i < s->n_tombs; i++) {
        if (strcmp(s->tombs[i].id, id) == 0)
            return &s->tombs[i];
    }
    return NULL;
}

void oadr_schedule_restore_tombstone(struct oadr_schedule *s, const char *id, int64_t modified_us)
{
    struct oadr_tombstone *t = oadr__tomb(s, id);
    if (!t) {
        if (s->n_tombs < OADR_TOMBSTONES_MAX) {
            t = &s->tombs[s->n_tombs++];
        } else {
            t = &s->tombs[s->tomb_next];
            s->tomb_next = (s->tomb_next + 1) % OADR_TOMBSTONES_MAX;
        }
        snprintf(t->id, sizeof(t->id), "%s", id);
        t->modified_us = modified_us;
    } else if (modified_us > t->modified_us) {
        t->modified_us = modified_us;
    }
}

static void oadr__remove(struct oadr_schedule *s, struct oadr_entry *e)
{
    size_t i = (size_t)(e - s->entries);
    memmove(&s->entries[i], &s->entries[i + 1], (s->n - i - 1) * sizeof(s->entries[0]));
    s->n--;
}

/* Whether every interval of the event is over at now. */
static bool oadr__ended(const struct oadr_event *ev, int64_t offset_us, int64_t now)
{
    for (size_t i = 0; i < ev->n_intervals; i++) {
        int64_t start, end;
        oadr_interval_span(&ev->intervals[i], offset_us, &start, &end);
        if (end > now)
            return false;
    }
    return true;
}

/* Cancels id at version modified_us (INT64_MAX: for ever). */
static enum oadr_change oadr__cancel(struct oadr_schedule *s, const char *id, int64_t modified_us,
                                     bool exact_version_counts)
{
    struct oadr_entry *held = oadr__find(s, id);
    struct oadr_tombstone *tomb = oadr__tomb(s, id);
    if (held && modified_us < held->ev.modified_us)
        return OADR_OLDER;
    if (held && modified_us == held->ev.modified_us && exact_version_counts)
        return OADR_SAME; /* the same version cannot be both in force and cancelled */
    if (!held && tomb && modified_us <= tomb->modified_us)
        return OADR_SAME;
    oadr_schedule_restore_tombstone(s, id, modified_us);
    if (!held)
        return OADR_UNKNOWN;
    oadr__remove(s, held);
    return OADR_CANCELLED;
}

enum oadr_change oadr_schedule_withdraw(struct oadr_schedule *s, const char *id,
                                        int64_t modified_us)
{
    if (!oadr__find(s, id))
        return OADR_UNKNOWN; /* nothing held: nothing to remember either */
    return oadr__cancel(s, id, modified_us, true);
}

enum oadr_change oadr_schedule_apply(struct oadr_schedule *s, const struct oadr_notification *n,
                                     int64_t now_us, uint64_t random)
{
    const struct oadr_event *ev = &n->event;
    if (n->operation == OADR_DELETE)
        return oadr__cancel(s, ev->id, INT64_MAX, false);
    if (ev->cancel)
        return oadr__cancel(s, ev->id, ev->modified_us, true);

    struct oadr_tombstone *tomb = oadr__tomb(s, ev->id);
    if (tomb && ev->modified_us <= tomb->modified_us)
        return OADR_OLDER;
    struct oadr_entry *held = oadr__find(s, ev->id);
    if (held && ev->modified_us < held->ev.modified_us)
        return OADR_OLDER;
    if (held && ev->modified_us == held->ev.modified_us)
        return OADR_SAME;

    /* Drawn once: an update with the same randomizeStart keeps the offset. */
    int64_t offset = held && held->ev.randomize_us == ev->randomize_us
                         ? held->offset_us
                         : (int64_t)(random % ((uint64_t)ev->randomize_us + 1));
    if (oadr__ended(ev, offset, now_us)) {
        if (held)
            oadr__remove(s, held);
        return OADR_ENDED;
    }
    if (!held && s->n == OADR_EVENTS_MAX)
        return OADR_FULL;
    enum oadr_change change = held ? OADR_REPLACED : OADR_ADDED;
    struct oadr_entry *e = held ? held : &s->entries[s->n++];
    e->ev = *ev;
    e->offset_us = offset;
    e->received_us = now_us;
    return change;
}

int oadr_schedule_restore(struct oadr_schedule *s, const struct oadr_event *ev, int64_t offset_us,
                          int64_t received_us)
{
    if (oadr__find(s, ev->id))
        return -EEXIST;
    if (s->n == OADR_EVENTS_MAX)
        return -ENOSPC;
    struct oadr_entry *e = &s->entries[s->n++];
    e->ev = *ev;
    e->offset_us = offset_us;
    e->received_us = received_us;
    return 0;
}

double oadr_schedule_interval_kw(const struct oadr_schedule *s, const struct oadr_interval *iv)
{
    double kw = iv->limit_kw;
    if (iv->simple >= 0 && iv->simple < OADR_SIMPLE_LEVELS) {
        double simple = s->cap_kw * (1 - s->shed[iv->simple]);
        kw = isnan(kw) ? simple : fmin(kw, simple);
    }
    if (isnan(kw))
        return NAN;
    return fmax(0, fmin(kw, s->cap_kw));
}

void oadr_schedule_evaluate(const struct oadr_schedule *s, int64_t now_us,
                            struct oadr_effective *out)
{
    out->limit_kw = NAN;
    out->event_id = NULL;
    out->interval_id = 0;
    int64_t best_priority = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct oadr_entry *e = &s->entries[i];
        for (size_t k = 0; k < e->ev.n_intervals; k++) {
            const struct oadr_interval *iv = &e->ev.intervals[k];
            int64_t start, end;
            oadr_interval_span(iv, e->offset_us, &start, &end);
            double kw = oadr_schedule_interval_kw(s, iv);
            if (now_us < start || now_us >= end || isnan(kw))
                continue;
            bool better = !out->event_id || e->ev.priority < best_priority ||
                          (e->ev.priority == best_priority && kw < out->limit_kw);
            if (better) {
                out->limit_kw = kw;
                out->event_id = e->ev.id;
                out->interval_id = iv->id;
                best_priority = e->ev.priority;
            }
        }
    }
}

int64_t oadr_schedule_next_change(const struct oadr_schedule *s, int64_t now_us)
{
    int64_t next = OADR_FOREVER;
    for (size_t i = 0; i < s->n; i++) {
        const struct oadr_entry *e = &s->entries[i];
        for (size_t k = 0; k < e->ev.n_intervals; k++) {
            int64_t start, end;
            oadr_interval_span(&e->ev.intervals[k], e->offset_us, &start, &end);
            if (start > now_us && start < next)
                next = start;
            if (end > now_us && end < next)
                next = end;
        }
    }
    return next;
}

size_t oadr_schedule_ended(const struct oadr_schedule *s, int64_t from_us, int64_t to_us,
                           struct oadr_ended *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct oadr_entry *e = &s->entries[i];
        for (size_t k = 0; k < e->ev.n_intervals; k++) {
            const struct oadr_interval *iv = &e->ev.intervals[k];
            int64_t start, end;
            oadr_interval_span(iv, e->offset_us, &start, &end);
            if (end <= from_us || end > to_us || end == start)
                continue;
            /* Insertion in end order; past cap, the latest ends are left out. */
            size_t at = n;
            while (at > 0 && out[at - 1].end_us > end)
                at--;
            if (at >= cap)
                continue;
            size_t move = (n < cap ? n : cap - 1) - at;
            memmove(&out[at + 1], &out[at], move * sizeof(out[0]));
            snprintf(out[at].event_id, sizeof(out[at].event_id), "%s", e->ev.id);
            out[at].interval_id = iv->id;
            out[at].start_us = start;
            out[at].end_us = end;
            if (n < cap)
                n++;
        }
    }
    return n;
}

size_t oadr_schedule_prune(struct oadr_schedule *s, int64_t now_us,
                           char removed[OADR_EVENTS_MAX][OADR_ID_MAX + 1])
{
    size_t n = 0, i = 0;
    while (i < s->n) {
        struct oadr_entry *e = &s->entries[i];
        if (!oadr__ended(&e->ev, e->offset_us, now_us)) {
            i++;
            continue;
        }
        memcpy(removed[n++], e->ev.id, sizeof(removed[0]));
        oadr__remove(s, e);
    }
    return n;
}
