/* The schedule (openadr/oadr_schedule.c): versions, cancellations and
 * tombstones, priorities, SIMPLE levels, the config cap, randomizeStart,
 * expiry, bounds, and the times at which the limit changes. */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "oadr_schedule.h"
#include "oadr_test.h"
#include "test.h"

#define MIN (60LL * OADR_US_PER_S)
#define CAP 200.0

static const double shed[OADR_SIMPLE_LEVELS] = { 0, 0.25, 0.5, 0.75 };
static struct oadr_schedule s;

/* A CREATE of one interval [start, start + dur) asking for kw (NAN: none)
 * and a SIMPLE level (-1: none). */
static struct oadr_notification *ev1(const char *id, int64_t modified, int64_t priority,
                                     int64_t start, int64_t dur, double kw, int simple)
{
    static struct oadr_notification n;
    memset(&n, 0, sizeof(n));
    n.operation = OADR_CREATE;
    snprintf(n.event.id, sizeof(n.event.id), "%s", id);
    snprintf(n.event.program_id, sizeof(n.event.program_id), "ev-peak-dr");
    snprintf(n.event.modified, sizeof(n.event.modified), "m%lld", (long long)modified);
    n.event.modified_us = modified;
    n.event.priority = priority;
    n.event.n_intervals = 1;
    n.event.intervals[0] = (struct oadr_interval){ .id = 0, .start_us = start,
                                                   .duration_us = dur, .limit_kw = kw,
                                                   .simple = simple };
    return &n;
}

static double limit_at(int64_t t, const char **id)
{
    struct oadr_effective e;
    oadr_schedule_evaluate(&s, t, &e);
    if (id)
        *id = e.event_id;
    return e.limit_kw;
}

TEST(versions)
{
    oadr_schedule_init(&s, CAP, shed);
    ASSERT_EQ(oadr_schedule_apply(&s, ev1("a", 10, 0, T_START, HOUR, 20, -1), T_NOW, 0),
              OADR_ADDED);
    ASSERT_EQ(oadr_schedule_apply(&s, ev1("a", 10, 0, T_START, HOUR, 99, -1), T_NOW, 0),
              OADR_SAME);
    ASSERT_DBL_NEAR(limit_at(T_START, NULL), 20, 0); /* the same version: unchanged */
    ASSERT_EQ(oadr_schedule_apply(&s, ev1("a", 11, 0, T_START, HOUR, 30, -1), T_NOW, 0),
              OADR_REPLACED);
    ASSERT_DBL_NEAR(limit_at(T_START, NULL), 30, 0);
    ASSERT_EQ(oadr_schedule_apply(&s, ev1("a", 9, 0, T_START, HOUR, 5, -1), T_NOW, 0),
              OADR_OLDER);
    ASSERT_DBL_NEAR(limit_at(T_START, NULL), 30, 0);
    ASSERT_EQ(s.n, 1);
    const struct oadr_entry *e = oadr_schedule_find(&s, "a");
    ASSERT_NOT_NULL(e);
    ASSERT_EQ(e->ev.modified_us, 11);
    ASSERT_EQ(e->received_us, T_NOW);
    ASSERT_NULL(oadr_schedule_find(&s, "b"));
}

TEST(in_force_half_open)
{
    oadr_schedule_init(&s, CAP, shed);
    oadr_schedule_apply(&s, ev1("a", 1, 0, T_START, HOUR, 20, -1), T_NOW, 0);
    const char *id;
    ASSERT(isnan(limit_at(T_START - 1, &id)));
    ASSERT_NULL(id);
    ASSERT_DBL_NEAR(limit_at(T_START, &id), 20, 0);
    ASSERT_STR_EQ(id, "a");
    ASSERT_DBL_NEAR(limit_at(T_START + HOUR - 1, NULL), 20, 0);
    ASSERT(isnan(limit_at(T_START + HOUR, NULL)));
    ASSERT_EQ(oadr_schedule_next_change(&s, T_NOW), T_START);
    ASSERT_EQ(oadr_schedule_next_change(&s, T_START), T_START + HOUR);
    ASSERT_EQ(oadr_schedule_next_change(&s, T_START + HOUR), OADR_FOREVER);
}

TEST(priority_flattens_overlaps)
{
    oadr_schedule_init(&s, CAP, shed);
    /* a: 20 kW at priority 1 from 10:00 to 12:00; b: 30 kW at priority 0
     * (higher) from 11:00 to 13:00 */
    oadr_schedule_apply(&s, ev1("a", 1, 1, T_START, 2 * HOUR, 20, -1), T_NOW, 0);
    oadr_schedule_apply(&s, ev1("b", 1, 0, T_START + HOUR, 2 * HOUR, 30, -1), T_NOW, 0);
    const char *id;
    ASSERT_DBL_NEAR(limit_at(T_START + 30 * MIN, &id), 20, 0);
    ASSERT_STR_EQ(id, "a");
    ASSERT_DBL_NEAR(limit_at(T_START + 90 * MIN, &id), 30, 0); /* b wins, though higher */
    ASSERT_STR_EQ(id, "b");
    ASSERT_DBL_NEAR(limit_at(T_START + 150 * MIN, &id), 30, 0);
    ASSERT(isnan(limit_at(T_START + 180 * MIN, NULL)));
    /* no priority is below every number; a tie takes the lower limit */
    oadr_schedule_init(&s, CAP, shed);
    oadr_schedule_apply(&s, ev1("none", 1, OADR_PRIORITY_NONE, T_START, HOUR, 10, -1), T_NOW, 0);
    oadr_schedule_apply(&s, ev1("five", 1, 5, T_START, HOUR, 50, -1), T_NOW, 0);
    ASSERT_DBL_NEAR(limit_at(T_START, &id), 50, 0);
    ASSERT_STR_EQ(id, "five");
    oadr_schedule_apply(&s, ev1("five-b", 1, 5, T_START, HOUR, 40, -1), T_NOW, 0);
    ASSERT_DBL_NEAR(limit_at(T_START, &id), 40, 0);
    ASSERT_STR_EQ(id, "five-b");
    ASSERT_EQ(oadr_schedule_next_change(&s, T_NOW), T_START);
}

TEST(simple_levels_and_the_cap)
{
    static const struct { double kw; int simple; double want; } cases[] = {
        { NAN, 0, 200 }, { NAN, 1, 150 }, { NAN, 2, 100 }, { NAN, 3, 50 },
        { 80, 2, 80 },    /* both given: the lower */
        { 120, 2, 100 },
        { 500, -1, 200 }, /* never above the config cap */
        { 1e300, -1, 200 },
        { 0, -1, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        oadr_schedule_init(&s, CAP, shed);
        oadr_schedule_apply(&s, ev1("a", 1, 0, T_START, HOUR, cases[i].kw, cases[i].simple),
                            T_NOW, 0);
        double got = limit_at(T_START, NULL);
        if (!(fabs(got - cases[i].want) < 1e-9))
            TEST__FAIL("kw=%g simple=%d: %g, wanted %g", cases[i].kw, cases[i].simple, got,
                       cases[i].want);
    }
    /* an interval asking for nothing is not in force, and lets a lower
     * priority's through */
    oadr_schedule_init(&s, CAP, shed);
    oadr_schedule_apply(&s, ev1("nothing", 1, 0, T_START, HOUR, NAN, -1), T_NOW, 0);
    oadr_schedule_apply(&s, ev1("low", 1, 9, T_START, HOUR, 60, -1), T_NOW, 0);
    const char *id;
    ASSERT_DBL_NEAR(limit_at(T_START, &id), 60, 0);
    ASSERT_STR_EQ(id, "low");
}

TEST(delete_and_tombstones)
{
    oadr_schedule_init(&s, CAP, shed);
    oadr_schedule_apply(&s, ev1("a", 10, 0, T_START, HOUR, 20, -1), T_NOW, 0);
    struct oadr_notification *del = ev1("a", INT64_MIN, 0, 0, 0, NAN, -1);
    del->operation = OADR_DELETE;
    del->event.n_intervals = 0;
    ASSERT_EQ(oadr_schedule_apply(&s, del, T_NOW, 0), OADR_CANCELLED);
    ASSERT_EQ(s.n, 0);
    ASSERT(isnan(limit_at(T_START, NULL)));
    ASSERT_EQ(oadr_schedule_apply(&s, del, T_NOW, 0), OADR_SAME);
    /* the retained CREATE arriving after its DELETE (reconnect) stays dead */
    ASSERT_EQ(oadr_schedule_apply(&s, ev1("a", 10, 0, T_START, HOUR, 20, -1), T_NOW, 0),
              OADR_OLDER);
    ASSERT_EQ(oadr_schedule_apply(&s, ev1("a", 99, 0, T_START, HOUR, 20, -1), T_NOW, 0),
              OADR_OLDER);
    ASSERT_EQ(s.n, 0);
    /* a DELETE of something never held is remembered */
    struct oadr_notification *del_b = ev1("b", INT64_MIN, 0, 0, 0, NAN, -1);
    del_b->operation = OADR_DELETE;
    ASSERT_EQ(oadr_schedule_apply(&s, del_b, T_NOW, 0), OADR_UNKNOWN);
    ASSERT_EQ(oadr_schedule_apply(&s, ev1("b", 5, 0, T_START, HOUR, 20, -1), T_NOW, 0),
              OADR_OLDER);
    ASSERT_EQ(s.n_tombs, 2);
}

TEST(zero_duration_cancels_by_version)
{
    oadr_schedule_init(&s, CAP, shed);
    oadr_schedule_apply(&s, ev1("a", 10, 0, T_START, HOUR, 20, -1), T_NOW, 0);
    struct oadr_notification *c = ev1("a", 9, 0, T_START, 0, NAN, -1);
    c->event.cancel = true;
    ASSERT_EQ(oadr_schedule_apply(&s, c, T_NOW, 0), OADR_OLDER);
    c = ev1("a", 10, 0, T_START, 0, NAN, -1);
    c->event.cancel = true;
    ASSERT_EQ(oadr_schedule_apply(&s, c, T_NOW, 0), OADR_SAME);
    ASSERT_EQ(s.n, 1);
    c = ev1("a", 11, 0, T_START, 0, NAN, -1);
    c->event.cancel = true;
    ASSERT_EQ(oadr_schedule_apply(&s, c, T_NOW, 0), OADR_CANCELLED);
    ASSERT_EQ(s.n, 0);
    ASSERT_EQ(oadr_schedule_apply(&s, c, T_NOW, 0), OADR_SAME); /* re-acknowledged */
    ASSERT_EQ(oadr_schedule_apply(&s, ev1("a", 10, 0, T_START, HOUR, 20, -1), T_NOW, 0),
              OADR_OLDER);
    /* a newer version after the cancellation is an event again */
    ASSERT_EQ(oadr_schedule_apply(&s, ev1("a", 12, 0, T_START, HOUR, 25, -1), T_NOW, 0),
              OADR_ADDED);
    ASSERT_DBL_NEAR(limit_at(T_START, NULL), 25, 0);
}

TEST(withdraw)
{
    oadr_schedule_init(&s, CAP, shed);
    oadr_schedule_apply(&s, ev1("a", 10, 0, T_START, HOUR, 20, -1), T_NOW, 0);
    ASSERT_EQ(oadr_schedule_withdraw(&s, "b", 11), OADR_UNKNOWN);
    ASSERT_EQ(s.n_tombs, 0);
    ASSERT_EQ(oadr_schedule_withdraw(&s, "a", 9), OADR_OLDER);
    ASSERT_EQ(oadr_schedule_withdraw(&s, "a", 10), OADR_SAME);
    ASSERT_EQ(oadr_schedule_withdraw(&s, "a", 11), OADR_CANCELLED);
    ASSERT_EQ(s.n, 0);
    ASSERT_EQ(oadr_schedule_apply(&s, ev1("a", 11, 0, T_START, HOUR, 20, -1), T_NOW, 0),
              OADR_OLDER);
}

TEST(randomize_start)
{
    oadr_schedule_init(&s, CAP, shed);
    struct oadr_notification *n = ev1("a", 1, 0, T_START, HOUR, 20, -1);
    n->event.randomize_us = 10 * MIN;
    ASSERT_EQ(oadr_schedule_apply(&s, n, T_NOW, 123456789), OADR_ADDED);
    int64_t offset = (int64_t)(123456789ULL % (10 * MIN + 1));
    const struct oadr_entry *e = oadr_schedule_find(&s, "a");
    ASSERT_EQ(e->offset_us, offset);
    ASSERT(isnan(limit_at(T_START + offset - 1, NULL)));
    ASSERT_DBL_NEAR(limit_at(T_START + offset, NULL), 20, 0);
    ASSERT_EQ(oadr_schedule_next_change(&s, T_NOW), T_START + offset);
    ASSERT_EQ(oadr_schedule_next_change(&s, T_START + offset), T_START + offset + HOUR);
    /* drawn once: a newer version with the same randomizeStart keeps it */
    n = ev1("a", 2, 0, T_START, HOUR, 25, -1);
    n->event.randomize_us = 10 * MIN;
    ASSERT_EQ(oadr_schedule_apply(&s, n, T_NOW, 999), OADR_REPLACED);
    ASSERT_EQ(oadr_schedule_find(&s, "a")->offset_us, offset);
    /* another randomizeStart is drawn anew, within its bound */
    n = ev1("a", 3, 0, T_START, HOUR, 25, -1);
    n->event.randomize_us = 5 * MIN;
    ASSERT_EQ(oadr_schedule_apply(&s, n, T_NOW, UINT64_MAX), OADR_REPLACED);
    ASSERT_EQ(oadr_schedule_find(&s, "a")->offset_us, (int64_t)(UINT64_MAX % (5 * MIN + 1)));
    ASSERT(oadr_schedule_find(&s, "a")->offset_us <= 5 * MIN);
    /* none: no offset, whatever the random */
    n = ev1("b", 1, 0, T_START, HOUR, 25, -1);
    oadr_schedule_apply(&s, n, T_NOW, 777);
    ASSERT_EQ(oadr_schedule_find(&s, "b")->offset_us, 0);
}

TEST(over_and_pruned)
{
    oadr_schedule_init(&s, CAP, shed);
    ASSERT_EQ(oadr_schedule_apply(&s, ev1("past", 1, 0, T_NOW - 2 * HOUR, HOUR, 20, -1), T_NOW,
                                  0),
              OADR_ENDED);
    ASSERT_EQ(s.n, 0);
    oadr_schedule_apply(&s, ev1("a", 1, 0, T_START, HOUR, 20, -1), T_NOW, 0);
    oadr_schedule_apply(&s, ev1("b", 1, 0, T_START, 2 * HOUR, 20, -1), T_NOW, 0);
    oadr_schedule_apply(&s, ev1("c", 1, 0, T_START, OADR_FOREVER, 20, -1), T_NOW, 0);
    /* an update that moves a held event into the past drops it */
    ASSERT_EQ(oadr_schedule_apply(&s, ev1("c", 2, 0, T_NOW - 2 * HOUR, HOUR, 20, -1), T_NOW, 0),
              OADR_ENDED);
    ASSERT_NULL(oadr_schedule_find(&s, "c"));
    oadr_schedule_apply(&s, ev1("d", 1, 0, T_START, OADR_FOREVER, 20, -1), T_NOW, 0);
    char removed[OADR_EVENTS_MAX][OADR_ID_MAX + 1];
    ASSERT_EQ(oadr_schedule_prune(&s, T_START + HOUR - 1, removed), 0);
    ASSERT_EQ(oadr_schedule_prune(&s, T_START + HOUR, removed), 1);
    ASSERT_STR_EQ(removed[0], "a");
    ASSERT_EQ(oadr_schedule_prune(&s, T_START + 1000 * HOUR, removed), 1);
    ASSERT_STR_EQ(removed[0], "b");
    ASSERT_EQ(s.n, 1); /* d never ends */
    ASSERT_DBL_NEAR(limit_at(T_START + 100000 * HOUR, NULL), 20, 0);
    ASSERT_EQ(oadr_schedule_next_change(&s, T_START), OADR_FOREVER);
}

TEST(ended_intervals_in_order)
{
    oadr_schedule_init(&s, CAP, shed);
    struct oadr_notification *n = ev1("a", 1, 0, T_START, HOUR, 20, -1);
    n->event.n_intervals = 3;
    n->event.intervals[1] = (struct oadr_interval){ .id = 1, .start_us = T_START + HOUR,
                                                    .duration_us = HOUR, .limit_kw = 30,
                                                    .simple = -1 };
    n->event.intervals[2] = (struct oadr_interval){ .id = 2, .start_us = T_START + 2 * HOUR,
                                                    .duration_us = 0, .limit_kw = 30,
                                                    .simple = -1 };
    oadr_schedule_apply(&s, n, T_NOW, 0);
    oadr_schedule_apply(&s, ev1("b", 1, 0, T_START, 30 * MIN, 20, -1), T_NOW, 0);
    struct oadr_ended out[4];
    size_t k = oadr_schedule_ended(&s, T_NOW, T_START + 3 * HOUR, out, 4);
    ASSERT_EQ(k, 3); /* the empty interval 2 has no end worth a report */
    ASSERT_STR_EQ(out[0].event_id, "b");
    ASSERT_EQ(out[0].end_us, T_START + 30 * MIN);
    ASSERT_STR_EQ(out[1].event_id, "a");
    ASSERT_EQ(out[1].interval_id, 0);
    ASSERT_EQ(out[1].start_us, T_START);
    ASSERT_EQ(out[2].interval_id, 1);
    ASSERT_EQ(out[2].end_us, T_START + 2 * HOUR);
    /* (from, to]: an end at from is not repeated */
    ASSERT_EQ(oadr_schedule_ended(&s, T_START + 30 * MIN, T_START + HOUR, out, 4), 1);
    ASSERT_EQ(out[0].end_us, T_START + HOUR);
    /* past cap, the earliest ends are kept */
    ASSERT_EQ(oadr_schedule_ended(&s, T_NOW, T_START + 3 * HOUR, out, 2), 2);
    ASSERT_STR_EQ(out[0].event_id, "b");
    ASSERT_EQ(out[1].end_us, T_START + HOUR);
}

TEST(bounded)
{
    oadr_schedule_init(&s, CAP, shed);
    char id[16];
    for (int i = 0; i < OADR_EVENTS_MAX; i++) {
        snprintf(id, sizeof(id), "e%d", i);
        ASSERT_EQ(oadr_schedule_apply(&s, ev1(id, 1, 0, T_START, HOUR, 20, -1), T_NOW, 0),
                  OADR_ADDED);
    }
    ASSERT_EQ(oadr_schedule_apply(&s, ev1("one-more", 1, 0, T_START, HOUR, 20, -1), T_NOW, 0),
              OADR_FULL);
    /* an update of one held still fits */
    ASSERT_EQ(oadr_schedule_apply(&s, ev1("e3", 2, 0, T_START, HOUR, 20, -1), T_NOW, 0),
              OADR_REPLACED);
    struct oadr_event extra = ev1("x", 1, 0, T_START, HOUR, 20, -1)->event;
    ASSERT_EQ(oadr_schedule_restore(&s, &extra, 0, T_NOW), -ENOSPC);
    /* tombstones are a ring: the oldest goes */
    for (int i = 0; i < OADR_TOMBSTONES_MAX + 5; i++) {
        snprintf(id, sizeof(id), "t%d", i);
        oadr_schedule_restore_tombstone(&s, id, i);
    }
    ASSERT_EQ(s.n_tombs, OADR_TOMBSTONES_MAX);
    bool t0 = false, last = false;
    for (size_t i = 0; i < s.n_tombs; i++) {
        t0 = t0 || strcmp(s.tombs[i].id, "t0") == 0;
        last = last || strcmp(s.tombs[i].id, "t68") == 0;
    }
    ASSERT(!t0);
    ASSERT(last);
}

TEST(restore)
{
    oadr_schedule_init(&s, CAP, shed);
    struct oadr_event e = ev1("a", 1, 0, T_START, HOUR, 20, -1)->event;
    ASSERT_EQ(oadr_schedule_restore(&s, &e, 7 * MIN, T_NOW - HOUR), 0);
    ASSERT_EQ(oadr_schedule_restore(&s, &e, 0, T_NOW), -EEXIST);
    const struct oadr_entry *held = oadr_schedule_find(&s, "a");
    ASSERT_EQ(held->offset_us, 7 * MIN);
    ASSERT_EQ(held->received_us, T_NOW - HOUR);
    ASSERT(isnan(limit_at(T_START, NULL)));
    ASSERT_DBL_NEAR(limit_at(T_START + 7 * MIN, NULL), 20, 0);
    oadr_schedule_restore_tombstone(&s, "z", 5);
    oadr_schedule_restore_tombstone(&s, "z", 3); /* never back to an older version */
    ASSERT_EQ(s.n_tombs, 1);
    ASSERT_EQ(s.tombs[0].modified_us, 5);
}

int main(void)
{
    RUN(versions);
    RUN(in_force_half_open);
    RUN(priority_flattens_overlaps);
    RUN(simple_levels_and_the_cap);
    RUN(delete_and_tombstones);
    RUN(zero_duration_cancels_by_version);
    RUN(withdraw);
    RUN(randomize_start);
    RUN(over_and_pruned);
    RUN(ended_intervals_in_order);
    RUN(bounded);
    RUN(restore);
    return test_summary();
}
