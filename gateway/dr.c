/* Demand response on the loop (dr.h): MQTT messages in, the schedule, the
 * DR limit out to the control loop, opt responses and reports out. */
#include "dr.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "dr_int.h"
#include "log.h"
#include "oadr_msg.h"
#include "oadr_time.h"

/* The timer is re-armed at least this often, so that a change of the wall
 * clock (NTP stepping it) is caught up with. */
#define DR__TICK_MAX_MS 60000

/* Interval ends reported per tick without a heap allocation. */
#define DR__ENDED_FEW 16

static void dr__tick_cb(uv_timer_t *t);

/* --- publishing ------------------------------------------------------------- */

static void dr__publish(struct dr *d, const char *topic, char *payload, const char *what)
{
    if (!payload) {
        log_error("dr", "out of memory building the %s", what);
        return;
    }
    int rc = oadr_mqtt_publish(d->mqtt, topic, payload, false);
    if (rc < 0)
        log_warn("dr", "%s not sent (the broker is not connected) topic=%s", what, topic);
    else
        log_debug("dr", "%s sent topic=%s payload=%s", what, topic, payload);
    free(payload);
}

static void dr__opt(struct dr *d, const struct oadr_event *ev, bool opt_in, const char *reason,
                    int code)
{
    char topic[DR_TOPIC_MAX];
    snprintf(topic, sizeof(topic), "%s/vens/%s/events/%s/opt", d->cfg->openadr.topic_prefix,
             d->cfg->openadr.ven_id, ev->id);
    struct oadr_opt o = { .event_id = ev->id, .modified = ev->modified, .opt_in = opt_in,
                          .reason = reason, .code = code };
    dr__publish(d, topic, oadr_msg_opt(&o), "opt response");
}

/* optIn for an event taken, naming what of it is ignored. */
static void dr__opt_in(struct dr *d, const struct oadr_event *ev)
{
    char reason[160];
    if (ev->ignored[0])
        snprintf(reason, sizeof(reason), "accepted; ignored payload types: %s", ev->ignored);
    else
        snprintf(reason, sizeof(reason), "accepted");
    dr__opt(d, ev, true, reason, OADR_CODE_OK);
}

static void dr__report(struct dr *d, const char *event_id, const char *name, int64_t start_us,
                       int64_t duration_us)
{
    struct control_report site;
    control_report(d->control, &site);
    struct oadr_report r = {
        .event_id = event_id, .client_name = d->cfg->openadr.ven_id,
        .resource_name = d->cfg->site.id, .report_name = name,
        .start_us = start_us, .duration_us = duration_us,
        .import_kw = site.import_kw, .ev_kw = site.ev_kw, .cap_kw = site.cap_kw,
        .flex_kw = site.flex_kw,
    };
    dr__publish(d, d->report_topic, oadr_msg_report(&r), "report");
}

static void dr__report_cb(uv_timer_t *t)
{
    struct dr *d = t->data;
    struct oadr_effective eff;
    int64_t now = dr__now_us();
    int64_t period = (int64_t)d->cfg->openadr.report_interval_s * OADR_US_PER_S;
    oadr_schedule_evaluate(d->sched, now, &eff);
    dr__report(d, eff.event_id, "periodic", now - period, period);
}

/* --- the limit in force ------------------------------------------------------ */

/* Gives the control loop the limit in force now (one log line per change)
 * and arms the timer for the next interval start or end. */
static void dr__update(struct dr *d, int64_t now)
{
    struct oadr_effective eff;
    oadr_schedule_evaluate(d->sched, now, &eff);
    const char *id = eff.event_id ? eff.event_id : "";
    bool same_limit = (isnan(eff.limit_kw) && isnan(d->limit_kw)) || eff.limit_kw == d->limit_kw;
    if (!same_limit || strcmp(id, d->limit_event) != 0 || eff.interval_id != d->limit_interval) {
        if (eff.event_id) {
            const struct oadr_entry *e = oadr_schedule_find(d->sched, eff.event_id);
            char priority[24] = "none";
            if (e->ev.priority != OADR_PRIORITY_NONE)
                snprintf(priority, sizeof(priority), "%lld", (long long)e->ev.priority);
            log_info("dr", "limit in force kw=%.1f event=%s interval=%d priority=%s program=%s",
                     eff.limit_kw, eff.event_id, eff.interval_id, priority, e->ev.program_id);
        } else {
            log_info("dr", "no event in force, local limits only");
        }
        d->limit_kw = eff.limit_kw;
        snprintf(d->limit_event, sizeof(d->limit_event), "%s", id);
        d->limit_interval = eff.interval_id;
        control_set_dr_limit(d->control, eff.limit_kw);
    }
    int64_t next = oadr_schedule_next_change(d->sched, now);
    if (next == OADR_FOREVER && d->sched->n == 0) {
        uv_timer_stop(&d->tick);
        return;
    }
    /* Wake just after the change (timers round down to the millisecond). */
    uint64_t ms = next == OADR_FOREVER ? DR__TICK_MAX_MS : (uint64_t)((next - now) / 1000) + 1;
    uv_timer_start(&d->tick, dr__tick_cb, ms < DR__TICK_MAX_MS ? ms : DR__TICK_MAX_MS, 0);
}

/* Reports every interval that ended since the last call. Usually a tick sees
 * one or two; after a suspend or a forward clock step it may see all the
 * intervals held, some ending at the same instant: when the few slots on the
 * stack fill up, the intervals are collected again into room for all. */
static void dr__report_ended(struct dr *d, int64_t now)
{
    struct oadr_ended few[DR__ENDED_FEW], *ended = few;
    size_t n = oadr_schedule_ended(d->sched, d->reported_until_us, now, few, DR__ENDED_FEW);
    if (n == DR__ENDED_FEW) {
        size_t held = 0;
        for (size_t i = 0; i < d->sched->n; i++)
            held += d->sched->entries[i].ev.n_intervals;
        struct oadr_ended *all = held > DR__ENDED_FEW ? malloc(held * sizeof(*all)) : NULL;
        if (all) {
            ended = all;
            n = oadr_schedule_ended(d->sched, d->reported_until_us, now, all, held);
        } else if (held > DR__ENDED_FEW) {
            log_error("dr", "out of memory: some interval-end reports may be missing");
        }
    }
    for (size_t i = 0; i < n; i++)
        dr__report(d, ended[i].event_id, "interval end", ended[i].start_us,
                   ended[i].end_us - ended[i].start_us);
    if (ended != few)
        free(ended);
    if (now > d->reported_until_us)
        d->reported_until_us = now;
}

/* Reports the intervals that ended, drops the events that are over, and
 * applies what is in force now. */
static void dr__advance(struct dr *d, int64_t now)
{
    dr__report_ended(d, now);
    char removed[OADR_EVENTS_MAX][OADR_ID_MAX + 1];
    size_t gone = oadr_schedule_prune(d->sched, now, removed);
    for (size_t i = 0; i < gone; i++) {
        log_info("dr", "event over event=%s", removed[i]);
        dr__forget_event(d, removed[i]);
    }
    if (gone)
        dr__save_ids(d);
    dr__update(d, now);
}

static void dr__tick_cb(uv_timer_t *t)
{
    struct dr *d = t->data;
    dr__advance(d, dr__now_us());
}

/* --- messages ------------------------------------------------------------------ */

/* Messages for other sites or programs are logged once per event id (or,
 * without one, per topic). */
static void dr__ignored(struct dr *d, const char *id, const char *topic, const char *why)
{
    const char *key = id[0] ? id : topic;
    for (size_t i = 0; i < DR_IGNORED_MAX; i++) {
        if (strncmp(d->ignored[i], key, sizeof(d->ignored[0]) - 1) == 0)
            return;
    }
    snprintf(d->ignored[d->ignored_next], sizeof(d->ignored[0]), "%s", key);
    d->ignored_next = (d->ignored_next + 1) % DR_IGNORED_MAX;
    log_info("dr", "event ignored event=%s topic=%s reason=%s", id[0] ? id : "-", topic, why);
}

/* A version that no longer targets this site withdraws the one held. */
static void dr__on_ignore(struct dr *d, const char *topic, const char *err, int64_t now)
{
    const struct oadr_event *ev = &d->scratch->event;
    if (ev->id[0] && ev->modified_us != INT64_MIN &&
        oadr_schedule_withdraw(d->sched, ev->id, ev->modified_us) == OADR_CANCELLED) {
        log_info("dr", "event withdrawn event=%s modified=%s reason=%s", ev->id, ev->modified,
                 err);
        dr__forget_event(d, ev->id);
        dr__save_ids(d);
        dr__save_tombstones(d);
        dr__update(d, now);
        return;
    }
    dr__ignored(d, ev->id, topic, err);
}

static void dr__on_event(struct dr *d, const char *payload, size_t len, int64_t now)
{
    const struct oadr_notification *n = d->scratch;
    const struct oadr_event *ev = &n->event;
    uint64_t random = 0;
    if (ev->randomize_us > 0 && uv_random(NULL, NULL, &random, sizeof(random), 0, NULL) != 0)
        random = 0;
    bool deleting = n->operation == OADR_DELETE;
    bool held = oadr_schedule_find(d->sched, ev->id) != NULL;
    const char *how = deleting ? "DELETE" : "zero duration";
    switch (oadr_schedule_apply(d->sched, n, now, random)) {
    case OADR_ADDED:
    case OADR_REPLACED: {
        const struct oadr_entry *e = oadr_schedule_find(d->sched, ev->id);
        char start[OADR_TIME_TEXT_MAX] = "?";
        if (ev->n_intervals)
            oadr_time_format(oadr_time_add(ev->intervals[0].start_us, e->offset_us), start,
                             sizeof(start));
        log_info("dr", "event accepted event=%s modified=%s program=%s start=%s intervals=%zu "
                 "offset_s=%.1f%s%s", ev->id, ev->modified, ev->program_id, start,
                 ev->n_intervals, (double)e->offset_us / OADR_US_PER_S,
                 ev->ignored[0] ? " ignored=" : "", ev->ignored);
        dr__save_event(d, ev->id, payload, len);
        dr__opt_in(d, ev);
        dr__update(d, now);
        break;
    }
    case OADR_SAME:
        log_debug("dr", "event unchanged, acknowledged again event=%s modified=%s", ev->id,
                  ev->modified);
        if (ev->cancel)
            dr__opt(d, ev, true, "cancelled", OADR_CODE_OK);
        else if (!deleting)
            dr__opt_in(d, ev);
        break;
    case OADR_OLDER:
        log_info("dr", "older version dropped event=%s modified=%s", ev->id,
                 ev->modified[0] ? ev->modified : "-");
        break;
    case OADR_CANCELLED:
    case OADR_UNKNOWN:
        log_info("dr", "event cancelled event=%s by=%s", ev->id, how);
        if (held) {
            dr__forget_event(d, ev->id);
            dr__save_ids(d);
        }
        dr__save_tombstones(d);
        if (!deleting)
            dr__opt(d, ev, true, "cancelled", OADR_CODE_OK);
        dr__update(d, now);
        break;
    case OADR_ENDED:
        log_info("dr", "event already over, not kept event=%s modified=%s", ev->id, ev->modified);
        if (held) {
            dr__forget_event(d, ev->id);
            dr__save_ids(d);
            dr__update(d, now);
        }
        break;
    case OADR_FULL:
        log_warn("dr", "event refused event=%s reason=schedule full (%d events)", ev->id,
                 OADR_EVENTS_MAX);
        dr__opt(d, ev, false, "too many events held", OADR_CODE_UNAVAILABLE);
        break;
    }
}

static void dr__on_message(void *ctx, const char *topic, const char *payload, size_t len)
{
    struct dr *d = ctx;
    char err[OADR_ERR_MAX];
    if (d->stopping)
        return;
    int64_t now = dr__now_us();
    switch (oadr_parse(payload, len, &d->parse, now, d->scratch, err)) {
    case OADR_EVENT:
        dr__on_event(d, payload, len, now);
        break;
    case OADR_IGNORE:
        dr__on_ignore(d, topic, err, now);
        break;
    case OADR_INVALID: {
        const struct oadr_event *ev = &d->scratch->event;
        log_warn("dr", "event refused event=%s topic=%s reason=%s", ev->id[0] ? ev->id : "-",
                 topic, err);
        if (ev->id[0])
            dr__opt(d, ev, false, err, OADR_CODE_INVALID);
        break;
    }
    }
}

static void dr__on_oversized(void *ctx, const char *topic, size_t len)
{
    struct dr *d = ctx;
    log_warn("dr", "message ignored topic=%s bytes=%zu reason=larger than "
             "openadr.max_message_bytes (%zu)", topic, len, d->cfg->openadr.max_message_bytes);
}

static void dr__on_up(void *ctx)
{
    struct dr *d = ctx;
    log_info("dr", "connected broker=%s ven=%s subscriptions=%zu", d->cfg->openadr.broker,
             d->cfg->openadr.ven_id, d->cfg->openadr.n_programs + 1);
}

static void dr__on_down(void *ctx, const char *why)
{
    struct dr *d = ctx;
    log_warn("dr", "broker unavailable, following the stored schedule broker=%s reason=%s",
             d->cfg->openadr.broker, why);
}

/* --- start and stop -------------------------------------------------------------- */

static void dr__free(struct dr *d)
{
    free(d->sched);
    free(d->scratch);
    free(d->online);
    free(d->offline);
    d->sched = NULL;
    d->scratch = NULL;
    d->online = d->offline = NULL;
}

static void dr__closed(uv_handle_t *h)
{
    struct dr *d = h->data;
    if (--d->open == 0)
        dr__free(d);
}

static void dr__stopped(void *ctx)
{
    struct dr *d = ctx;
    d->mqtt = NULL;
    if (--d->open == 0)
        dr__free(d);
}

static void dr__topics(struct dr *d)
{
    const struct config_openadr *o = &d->cfg->openadr;
    size_t n = 0;
    for (size_t i = 0; i < o->n_programs; i++, n++)
        snprintf(d->topics[n], DR_TOPIC_MAX, "%s/programs/%s/events/+", o->topic_prefix,
                 o->programs[i]);
    snprintf(d->topics[n++], DR_TOPIC_MAX, "%s/vens/%s/events/+", o->topic_prefix, o->ven_id);
    for (size_t i = 0; i < n; i++)
        d->topic_list[i] = d->topics[i];
    snprintf(d->status_topic, DR_TOPIC_MAX, "%s/vens/%s/status", o->topic_prefix, o->ven_id);
    snprintf(d->report_topic, DR_TOPIC_MAX, "%s/vens/%s/reports", o->topic_prefix, o->ven_id);
}

int dr_start(struct dr *d, uv_loop_t *loop, const struct config *cfg, struct store *store,
             struct control *control)
{
    memset(d, 0, sizeof(*d));
    const struct config_openadr *o = &cfg->openadr;
    if (!o->enabled)
        return 0;
    d->loop = loop;
    d->cfg = cfg;
    d->store = store;
    d->control = control;
    d->limit_kw = NAN;
    d->sched = malloc(sizeof(*d->sched));
    d->scratch = malloc(sizeof(*d->scratch));
    d->online = oadr_msg_status(o->ven_id, true);
    d->offline = oadr_msg_status(o->ven_id, false);
    if (!d->sched || !d->scratch || !d->online || !d->offline) {
        dr__free(d);
        return -ENOMEM;
    }
    oadr_schedule_init(d->sched, cfg->site.grid_limit_kw, o->simple_shed);
    d->parse = (struct oadr_parse_cfg){
        .ven_id = o->ven_id, .site_id = cfg->site.id,
        .programs = (const char *const *)o->programs, .n_programs = o->n_programs,
        .groups = (const char *const *)o->groups, .n_groups = o->n_groups,
        .max_bytes = o->max_message_bytes,
        .max_future_us = (int64_t)o->max_future_h * 3600 * OADR_US_PER_S,
    };
    dr__topics(d);

    uv_timer_init(loop, &d->tick);
    uv_timer_init(loop, &d->report);
    d->tick.data = d->report.data = d;
    d->open = 2;
    d->started = true;

    /* The stored schedule first: the limit holds from the first moment,
     * broker or not. */
    int64_t now = dr__now_us();
    d->reported_until_us = now;
    dr__load(d);
    dr__advance(d, now);
    uint64_t every = (uint64_t)o->report_interval_s * 1000;
    uv_timer_start(&d->report, dr__report_cb, every, every);

    struct oadr_mqtt_opts mo = {
        .broker = o->broker, .client_id = o->client_id, .username = o->username,
        .password = o->password, .ca_file = o->ca_file, .cert_file = o->cert_file,
        .key_file = o->key_file, .keepalive_s = o->keepalive_s,
        .reconnect_min_s = o->reconnect_min_s, .reconnect_max_s = o->reconnect_max_s,
        .max_message_bytes = o->max_message_bytes, .topics = d->topic_list,
        .n_topics = o->n_programs + 1, .status_topic = d->status_topic, .online = d->online,
        .offline = d->offline,
    };
    struct oadr_mqtt_handlers h = {
        .ctx = d, .up = dr__on_up, .down = dr__on_down, .message = dr__on_message,
        .oversized = dr__on_oversized, .stopped = dr__stopped,
    };
    int rc = oadr_mqtt_start(&d->mqtt, loop, &mo, &h);
    if (rc < 0) {
        log_error("dr", "cannot create the MQTT client broker=%s: %s", o->broker, strerror(-rc));
        dr_stop(d);
        return rc;
    }
    d->open++;
    log_info("dr", "demand response on broker=%s ven=%s programs=%zu events_held=%zu",
             o->broker, o->ven_id, o->n_programs, d->sched->n);
    return 0;
}

void dr_reload(struct dr *d)
{
    if (!d->started || d->stopping)
        return;
    d->sched->cap_kw = d->cfg->site.grid_limit_kw;
    dr__update(d, dr__now_us());
}

void dr_stop(struct dr *d)
{
    if (!d->started || d->stopping)
        return;
    d->stopping = true;
    uv_close((uv_handle_t *)&d->tick, dr__closed);
    uv_close((uv_handle_t *)&d->report, dr__closed);
    oadr_mqtt_stop(d->mqtt);
}
