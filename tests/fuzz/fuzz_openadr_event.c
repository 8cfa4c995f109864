/* libFuzzer target for the demand-response event parser (openadr/oadr_event.c)
 * and what consumes its output.
 *
 * Any input: parsing must not crash or read past size (ASan), and every
 * verdict must be consistent (an error text unless valid; a readable id is a
 * valid objectID). A valid event must hold the parser's promises (interval
 * count and order, values finite and not negative, SIMPLE 0-3), go through
 * the schedule with a limit between 0 and the cap at every interval boundary,
 * survive the persisted form (encode, decode, parse again: the same event),
 * and give an opt response that parses back. abort() otherwise.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "oadr_event.h"
#include "oadr_msg.h"
#include "oadr_record.h"
#include "oadr_schedule.h"
#include "oadr_time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW (1686821400LL * OADR_US_PER_S) /* 2023-06-15T09:30:00Z */
#define CAP_KW 200.0

static const char *const programs[] = { "ev-peak-dr", "tod-2" };
static const char *const groups[] = { "north-feeder" };
static const struct oadr_parse_cfg cfg = {
    .ven_id = "VEN-7", .site_id = "DEPOT-01", .programs = programs, .n_programs = 2,
    .groups = groups, .n_groups = 1, .max_bytes = 65536,
    .max_future_us = 168LL * 3600 * OADR_US_PER_S,
};
static const double shed[OADR_SIMPLE_LEVELS] = { 0, 0.25, 0.5, 0.75 };

static struct oadr_notification n, again;
static struct oadr_schedule sched;

static void fuzz__check(int ok)
{
    if (!ok)
        abort();
}

static void fuzz__check_event(const struct oadr_notification *x)
{
    const struct oadr_event *ev = &x->event;
    fuzz__check(oadr_object_id_ok(ev->id) && oadr_object_id_ok(ev->program_id));
    if (x->operation == OADR_DELETE || ev->cancel)
        return;
    fuzz__check(ev->modified_us != INT64_MIN && ev->modified[0]);
    fuzz__check(ev->randomize_us >= 0 && ev->randomize_us <= cfg.max_future_us);
    fuzz__check(ev->n_intervals >= 1 && ev->n_intervals <= OADR_INTERVALS_MAX);
    bool actionable = false;
    for (size_t i = 0; i < ev->n_intervals; i++) {
        const struct oadr_interval *iv = &ev->intervals[i];
        fuzz__check(i == 0 || iv->id > iv[-1].id);
        fuzz__check(iv->duration_us >= 0);
        fuzz__check(isnan(iv->limit_kw) || (isfinite(iv->limit_kw) && iv->limit_kw >= 0));
        fuzz__check(iv->simple >= -1 && iv->simple < OADR_SIMPLE_LEVELS);
        actionable = actionable || !isnan(iv->limit_kw) || iv->simple >= 0;
    }
    fuzz__check(actionable);
}

/* The schedule's limit at every interval boundary is within [0, cap]. */
static void fuzz__check_schedule(const struct oadr_notification *x)
{
    oadr_schedule_init(&sched, CAP_KW, shed);
    enum oadr_change c = oadr_schedule_apply(&sched, x, NOW, (uint64_t)x->event.n_intervals * 7919);
    if (c != OADR_ADDED)
        return;
    const struct oadr_entry *e = oadr_schedule_find(&sched, x->event.id);
    fuzz__check(e && e->offset_us >= 0 && e->offset_us <= x->event.randomize_us);
    for (size_t i = 0; i < e->ev.n_intervals; i++) {
        int64_t start, end;
        oadr_interval_span(&e->ev.intervals[i], e->offset_us, &start, &end);
        fuzz__check(end >= start);
        int64_t times[] = { start, end - 1, end };
        for (size_t k = 0; k < 3; k++) {
            struct oadr_effective eff;
            oadr_schedule_evaluate(&sched, times[k], &eff);
            fuzz__check(isnan(eff.limit_kw) ||
                        (eff.limit_kw >= 0 && eff.limit_kw <= CAP_KW && eff.event_id));
            int64_t next = oadr_schedule_next_change(&sched, times[k]);
            fuzz__check(next > times[k] || next == OADR_FOREVER);
        }
    }
    struct oadr_ended ended[4];
    fuzz__check(oadr_schedule_ended(&sched, NOW, OADR_FOREVER - 1, ended, 4) <= 4);
}

/* Encoded, decoded and parsed again at its arrival: the same event. */
static void fuzz__check_record(const uint8_t *data, size_t size)
{
    char *rec = oadr_record_encode((const char *)data, size, NOW, 42);
    fuzz__check(rec != NULL);
    char *text = NULL, err[OADR_ERR_MAX];
    size_t len = 0;
    int64_t received, offset;
    fuzz__check(oadr_record_decode(rec, &text, &len, &received, &offset) == 0);
    fuzz__check(len == size && memcmp(text, data, size) == 0 && received == NOW && offset == 42);
    fuzz__check(oadr_parse(text, len, &cfg, received, &again, err) == OADR_EVENT);
    fuzz__check(strcmp(again.event.id, n.event.id) == 0 &&
                again.event.n_intervals == n.event.n_intervals &&
                again.event.cancel == n.event.cancel && again.operation == n.operation);
    for (size_t i = 0; i < n.event.n_intervals; i++)
        fuzz__check(again.event.intervals[i].start_us == n.event.intervals[i].start_us);
    free(text);
    free(rec);
}

static void fuzz__check_opt(const struct oadr_event *ev, const char *reason)
{
    struct oadr_opt o = { .event_id = ev->id, .modified = ev->modified, .opt_in = false,
                          .reason = reason, .code = OADR_CODE_INVALID };
    char *text = oadr_msg_opt(&o);
    fuzz__check(text != NULL);
    cJSON *j = cJSON_Parse(text);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "eventID");
    fuzz__check(cJSON_IsString(id) && strcmp(id->valuestring, ev->id) == 0);
    cJSON_Delete(j);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[OADR_ERR_MAX];
    memset(err, 'x', sizeof(err));
    enum oadr_verdict v = oadr_parse((const char *)data, size, &cfg, NOW, &n, err);
    fuzz__check(memchr(err, '\0', sizeof(err)) != NULL);
    fuzz__check(v == OADR_EVENT || v == OADR_IGNORE || v == OADR_INVALID);
    fuzz__check((v == OADR_EVENT) == (err[0] == '\0'));
    fuzz__check(n.event.id[0] == '\0' || oadr_object_id_ok(n.event.id));
    if (v == OADR_INVALID && n.event.id[0])
        fuzz__check_opt(&n.event, err); /* the optOut it would get */
    if (v != OADR_EVENT)
        return 0;
    fuzz__check_event(&n);
    fuzz__check_schedule(&n);
    fuzz__check_record(data, size);
    return 0;
}
