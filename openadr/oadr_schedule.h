/* The demand-response schedule: the events the site holds, and the limit
 * they put on its import at a given time.
 *
 * Pure: time is an argument, and so is the randomness behind randomizeStart
 * (drawn once per event version, kept across updates that keep the same
 * randomizeStart, and persisted by the caller). Bounded: OADR_EVENTS_MAX
 * events and OADR_TOMBSTONES_MAX cancelled ids.
 *
 * Rules:
 *  - a newer modificationDateTime replaces, an equal one re-acknowledges, an
 *    older one is dropped; a cancelled id stays cancelled for versions no
 *    newer than the cancelling one (a DELETE: for ever), so that a retained
 *    CREATE that arrives after its DELETE on reconnect does not revive it;
 *  - DELETE, a zero duration, or an update that no longer targets the site
 *    cancel; an event whose intervals are all over is dropped;
 *  - at a time, the highest-priority event (lowest number; none is lowest)
 *    with an interval in force that carries a limit sets the DR limit; on a
 *    tie the lower limit wins. IMPORT_CAPACITY_LIMIT is in kW; a SIMPLE level
 *    is cap * (1 - shed[level]). The limit is never above the config cap.
 */
#ifndef SITEGATE_OADR_SCHEDULE_H
#define SITEGATE_OADR_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oadr_event.h"

#define OADR_EVENTS_MAX 32
#define OADR_TOMBSTONES_MAX 64

struct oadr_entry {
    struct oadr_event ev;
    int64_t offset_us;       /* randomizeStart offset, in [0, ev.randomize_us] */
    int64_t received_us;     /* when this version arrived: it resolved its "now" */
};

struct oadr_tombstone {
    char id[OADR_ID_MAX + 1];
    int64_t modified_us;     /* versions up to this one stay cancelled */
};

struct oadr_schedule {
    double cap_kw;                        /* the config cap */
    double shed[OADR_SIMPLE_LEVELS];      /* share of the cap each SIMPLE level sheds */
    struct oadr_entry entries[OADR_EVENTS_MAX];
    size_t n;
    struct oadr_tombstone tombs[OADR_TOMBSTONES_MAX];
    size_t n_tombs, tomb_next;            /* a ring once full: the oldest goes */
};

/* What oadr_schedule_apply did. */
enum oadr_change {
    OADR_ADDED,       /* a new event */
    OADR_REPLACED,    /* a newer version replaced the one held */
    OADR_SAME,        /* the version held (or already cancelled): re-acknowledge */
    OADR_OLDER,       /* older than the one held or than its cancellation: dropped */
    OADR_CANCELLED,   /* the event held was removed */
    OADR_UNKNOWN,     /* a cancellation of an event not held: remembered */
    OADR_ENDED,       /* every interval is over: not kept */
    OADR_FULL,        /* no room for another event */
};

/* The limit in force at a time. */
struct oadr_effective {
    double limit_kw;         /* NAN: no DR limit */
    const char *event_id;    /* the event that sets it (points into the schedule), or NULL */
    int32_t interval_id;
};

/* An interval that ended, for the report at its end. */
struct oadr_ended {
    char event_id[OADR_ID_MAX + 1];
    int32_t interval_id;
    int64_t start_us, end_us;
};

/* An empty schedule under a config cap (kW), with the SIMPLE shed fractions
 * (each 0..1). */
void oadr_schedule_init(struct oadr_schedule *s, double cap_kw,
                        const double shed[OADR_SIMPLE_LEVELS]);

/* Applies a parsed notification that arrived at now_us. random draws a new
 * event's offset (random % (randomizeStart + 1)). */
enum oadr_change oadr_schedule_apply(struct oadr_schedule *s, const struct oadr_notification *n,
                                     int64_t now_us, uint64_t random);

/* Cancels event id because a version modified at modified_us no longer
 * targets this site: OADR_CANCELLED, OADR_OLDER or OADR_UNKNOWN. */
enum oadr_change oadr_schedule_withdraw(struct oadr_schedule *s, const char *id,
                                        int64_t modified_us);

/* Puts back an event as persisted, with its offset and arrival time (after a
 * restart). 0, or -ENOSPC when full, -EEXIST for an id held. */
int oadr_schedule_restore(struct oadr_schedule *s, const struct oadr_event *ev,
                          int64_t offset_us, int64_t received_us);

/* Puts back a cancelled id as persisted. */
void oadr_schedule_restore_tombstone(struct oadr_schedule *s, const char *id,
                                     int64_t modified_us);

/* The event held with this id, or NULL. */
const struct oadr_entry *oadr_schedule_find(const struct oadr_schedule *s, const char *id);

/* The DR limit in force at now_us. */
void oadr_schedule_evaluate(const struct oadr_schedule *s, int64_t now_us,
                            struct oadr_effective *out);

/* The first time after now_us at which an interval starts or ends;
 * OADR_FOREVER when none will. */
int64_t oadr_schedule_next_change(const struct oadr_schedule *s, int64_t now_us);

/* The intervals that ended in (from_us, to_us], up to cap of them, in end
 * order; returns how many. */
size_t oadr_schedule_ended(const struct oadr_schedule *s, int64_t from_us, int64_t to_us,
                           struct oadr_ended *out, size_t cap);

/* Removes the events whose intervals are all over at now_us; their ids go to
 * removed, which has room for every event held. Returns how many were removed. */
size_t oadr_schedule_prune(struct oadr_schedule *s, int64_t now_us,
                           char removed[OADR_EVENTS_MAX][OADR_ID_MAX + 1]);

/* The limit one interval asks for (kW, not above the cap), NAN for none. */
double oadr_schedule_interval_kw(const struct oadr_schedule *s, const struct oadr_interval *iv);

#endif
