/* Parsing and validating event notifications (oadr_event.h).
 *
 * Order matters: first what can be read of the event's identity (id,
 * modificationDateTime, programID, targets), so that a message for another
 * program or site is ignored rather than answered, and a malformed one for
 * this site is answered with its id; then everything else. */
#include "oadr_event.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "oadr_text.h"
#include "oadr_time.h"

#define OADR__DESCRIPTORS_MAX 32
#define OADR__TYPE_MAX 128

struct oadr__ctx {
    const struct oadr_parse_cfg *cfg;
    int64_t now;
    char *err;
    struct oadr_event *ev;
    double limit_scale;          /* IMPORT_CAPACITY_LIMIT units to kW */
};

static int oadr__fail(struct oadr__ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int oadr__fail(struct oadr__ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, OADR_ERR_MAX, fmt, ap);
    va_end(ap);
    return -1;
}

/* --- members ------------------------------------------------------------- */

/* The member `name` of obj, NULL when absent or null; a key given twice is
 * an error (two readers could take different copies). */
static int oadr__member(struct oadr__ctx *c, const cJSON *obj, const char *where,
                        const char *name, const cJSON **out)
{
    *out = NULL;
    const cJSON *found = NULL;
    for (const cJSON *m = obj->child; m; m = m->next) {
        if (m->string && strcmp(m->string, name) == 0) {
            if (found)
                return oadr__fail(c, "%s%s: duplicate key", where, name);
            found = m;
        }
    }
    *out = cJSON_IsNull(found) ? NULL : found;
    return 0;
}

/* A string member of 1..max characters; required or NULL when absent. */
static int oadr__string(struct oadr__ctx *c, const cJSON *obj, const char *where, const char *name,
                        bool required, size_t max, const char **out)
{
    const cJSON *m;
    *out = NULL;
    if (oadr__member(c, obj, where, name, &m) < 0)
        return -1;
    if (!m)
        return required ? oadr__fail(c, "%s%s: missing", where, name) : 0;
    if (!cJSON_IsString(m) || !m->valuestring)
        return oadr__fail(c, "%s%s: must be a string", where, name);
    size_t n = strlen(m->valuestring);
    if (n < 1 || n > max)
        return oadr__fail(c, "%s%s: must be 1 to %zu characters", where, name, max);
    *out = m->valuestring;
    return 0;
}

/* An integral number within [lo, hi]; absent leaves *out. */
static int oadr__integer(struct oadr__ctx *c, const cJSON *obj, const char *where,
                         const char *name, bool required, double lo, double hi, int64_t *out)
{
    const cJSON *m;
    if (oadr__member(c, obj, where, name, &m) < 0)
        return -1;
    if (!m)
        return required ? oadr__fail(c, "%s%s: missing", where, name) : 0;
    double v = m->valuedouble;
    if (!cJSON_IsNumber(m) || !isfinite(v) || v != floor(v) || v < lo || v > hi)
        return oadr__fail(c, "%s%s: must be an integer from %.0f to %.0f", where, name, lo, hi);
    *out = (int64_t)v;
    return 0;
}

static int oadr__duration(struct oadr__ctx *c, const cJSON *obj, const char *where,
                          const char *name, int64_t *out)
{
    const char *s;
    if (oadr__string(c, obj, where, name, false, 64, &s) < 0)
        return -1;
    if (s && oadr_duration_parse(s, out) < 0)
        return oadr__fail(c, "%s%s: not an ISO 8601 duration: \"%s\"", where, name, s);
    return 0;
}

/* --- identity: what decides whether the event is this site's ------------ */

static bool oadr__in(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(name, list[i]) == 0)
            return true;
    }
    return false;
}

/* A plain name (OpenADR 3.1 targets are strings) names this site when it is
 * the VEN, the site or one of its groups. */
static bool oadr__names_us(const struct oadr_parse_cfg *cfg, const char *name)
{
    return (cfg->ven_id && strcmp(name, cfg->ven_id) == 0) ||
           (cfg->site_id && strcmp(name, cfg->site_id) == 0) ||
           oadr__in(name, cfg->groups, cfg->n_groups);
}

/* An OpenADR 3.0 valuesMap target {type, values}: VEN_NAME, RESOURCE_NAME
 * and GROUP are understood; other types never name this site. */
static int oadr__target_map(struct oadr__ctx *c, const cJSON *t, size_t i, bool *us)
{
    char where[32];
    snprintf(where, sizeof(where), "targets[%zu].", i);
    const char *type;
    const cJSON *values;
    if (oadr__string(c, t, where, "type", true, OADR__TYPE_MAX, &type) < 0 ||
        oadr__member(c, t, where, "values", &values) < 0)
        return -1;
    if (!cJSON_IsArray(values))
        return oadr__fail(c, "%svalues: must be an array", where);
    for (const cJSON *v = values->child; v; v = v->next) {
        if (!cJSON_IsString(v) || !v->valuestring)
            return oadr__fail(c, "%svalues: must hold strings", where);
        const char *s = v->valuestring;
        const struct oadr_parse_cfg *cfg = c->cfg;
        if ((strcmp(type, "VEN_NAME") == 0 && cfg->ven_id && strcmp(s, cfg->ven_id) == 0) ||
            (strcmp(type, "RESOURCE_NAME") == 0 && cfg->site_id && strcmp(s, cfg->site_id) == 0) ||
            (strcmp(type, "GROUP") == 0 && oadr__in(s, cfg->groups, cfg->n_groups)))
            *us = true;
    }
    return 0;
}

/* 1: for this site (no targets, or one names it), 0: not, -1: malformed. */
static int oadr__targets(struct oadr__ctx *c, const cJSON *object)
{
    const cJSON *targets;
    if (oadr__member(c, object, "", "targets", &targets) < 0)
        return -1;
    if (!targets)
        return 1;
    if (!cJSON_IsArray(targets))
        return oadr__fail(c, "targets: must be an array");
    int n = cJSON_GetArraySize(targets);
    if (n == 0)
        return 1;
    if (n > OADR_TARGETS_MAX)
        return oadr__fail(c, "targets: at most %d", OADR_TARGETS_MAX);
    bool us = false;
    size_t i = 0;
    for (const cJSON *t = targets->child; t; t = t->next, i++) {
        if (cJSON_IsString(t) && t->valuestring) {
            size_t len = strlen(t->valuestring);
            if (len < 1 || len > OADR_ID_MAX)
                return oadr__fail(c, "targets[%zu]: must be 1 to %d characters", i, OADR_ID_MAX);
            us = us || oadr__names_us(c->cfg, t->valuestring);
        } else if (cJSON_IsObject(t)) {
            if (oadr__target_map(c, t, i, &us) < 0)
                return -1;
        } else {
            return oadr__fail(c, "targets[%zu]: must be a string or {type, values}", i);
        }
    }
    return us ? 1 : 0;
}

/* Reads id, modificationDateTime and programID into the event, then decides
 * whether the event is this site's. Returns OADR_EVENT to go on. */
static enum oadr_verdict oadr__identity(struct oadr__ctx *c, const cJSON *object, bool deleting)
{
    struct oadr_event *ev = c->ev;
    const char *id, *modified, *program;
    if (oadr__string(c, object, "", "id", true, OADR_ID_MAX, &id) < 0)
        return OADR_INVALID;
    if (!oadr_object_id_ok(id))
        return oadr__fail(c, "id: may only contain letters, digits, _ and -"), OADR_INVALID;
    memcpy(ev->id, id, strlen(id) + 1);
    if (oadr__string(c, object, "", "modificationDateTime", !deleting, sizeof(ev->modified) - 1,
                     &modified) < 0)
        return OADR_INVALID;
    if (modified) {
        if (oadr_time_parse(modified, &ev->modified_us) < 0)
            return oadr__fail(c, "modificationDateTime: not an RFC 3339 time"), OADR_INVALID;
        memcpy(ev->modified, modified, strlen(modified) + 1);
    }
    if (oadr__string(c, object, "", "programID", true, OADR_ID_MAX, &program) < 0)
        return OADR_INVALID;
    if (!oadr_object_id_ok(program))
        return oadr__fail(c, "programID: may only contain letters, digits, _ and -"), OADR_INVALID;
    memcpy(ev->program_id, program, strlen(program) + 1);
    if (!oadr__in(program, c->cfg->programs, c->cfg->n_programs))
        return oadr__fail(c, "program %s is not one this site is enrolled in", program), OADR_IGNORE;
    int rc = oadr__targets(c, object);
    if (rc < 0)
        return OADR_INVALID;
    if (rc == 0)
        return oadr__fail(c, "its targets do not include this site"), OADR_IGNORE;
    return OADR_EVENT;
}

/* --- payloads ------------------------------------------------------------ */

/* The units of IMPORT_CAPACITY_LIMIT, from payloadDescriptors (kW if none). */
static int oadr__descriptors(struct oadr__ctx *c, const cJSON *object)
{
    const cJSON *list;
    c->limit_scale = 1;
    if (oadr__member(c, object, "", "payloadDescriptors", &list) < 0)
        return -1;
    if (!list)
        return 0;
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > OADR__DESCRIPTORS_MAX)
        return oadr__fail(c, "payloadDescriptors: must be an array of at most %d",
                          OADR__DESCRIPTORS_MAX);
    size_t i = 0;
    for (const cJSON *d = list->child; d; d = d->next, i++) {
        char where[40];
        snprintf(where, sizeof(where), "payloadDescriptors[%zu].", i);
        const char *type, *units;
        if (!cJSON_IsObject(d))
            return oadr__fail(c, "payloadDescriptors[%zu]: must be an object", i);
        if (oadr__string(c, d, where, "payloadType", true, OADR__TYPE_MAX, &type) < 0 ||
            oadr__string(c, d, where, "units", false, OADR__TYPE_MAX, &units) < 0)
            return -1;
        if (strcmp(type, "IMPORT_CAPACITY_LIMIT") != 0 || !units)
            continue;
        if (strcasecmp(units, "KW") == 0)
            c->limit_scale = 1;
        else if (strcasecmp(units, "W") == 0)
            c->limit_scale = 0.001;
        else if (strcasecmp(units, "MW") == 0)
            c->limit_scale = 1000;
        else
            return oadr__fail(c, "%sunits: \"%s\" is not a power unit (KW, W or MW)", where, units);
    }
    return 0;
}

/* Adds type to the event's list of ignored payload types, once. */
static void oadr__ignore_type(struct oadr_event *ev, const char *type)
{
    size_t used = strlen(ev->ignored), n = strlen(type);
    for (const char *p = ev->ignored; (p = strstr(p, type)); p += n) {
        if ((p == ev->ignored || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return;
    }
    if (used + n + 2 > sizeof(ev->ignored))
        return; /* the list is a courtesy in a log line and an opt reason */
    if (used)
        ev->ignored[used++] = ',';
    memcpy(ev->ignored + used, type, n + 1);
}

/* The one value of a payload, which must be a number. */
static int oadr__one_number(struct oadr__ctx *c, const cJSON *values, const char *where,
                            double *out)
{
    if (cJSON_GetArraySize(values) != 1 || !cJSON_IsNumber(values->child))
        return oadr__fail(c, "%svalues: must be one number", where);
    *out = values->child->valuedouble;
    return 0;
}

static int oadr__payload(struct oadr__ctx *c, const cJSON *p, const char *where,
                         struct oadr_interval *iv)
{
    const char *type;
    const cJSON *values;
    if (!cJSON_IsObject(p))
        return oadr__fail(c, "%s: must be an object", where);
    char inner[64];
    snprintf(inner, sizeof(inner), "%s.", where);
    if (oadr__string(c, p, inner, "type", true, OADR__TYPE_MAX, &type) < 0 ||
        oadr__member(c, p, inner, "values", &values) < 0)
        return -1;
    if (!cJSON_IsArray(values))
        return oadr__fail(c, "%svalues: must be an array", inner);
    double v = 0;
    if (strcmp(type, "IMPORT_CAPACITY_LIMIT") == 0) {
        if (oadr__one_number(c, values, inner, &v) < 0)
            return -1;
        double kw = v * c->limit_scale;
        if (!isfinite(v) || !isfinite(kw) || v < 0)
            return oadr__fail(c, "%svalues: a capacity must be finite and not negative", inner);
        iv->limit_kw = isnan(iv->limit_kw) ? kw : fmin(iv->limit_kw, kw);
    } else if (strcmp(type, "SIMPLE") == 0) {
        if (oadr__one_number(c, values, inner, &v) < 0)
            return -1;
        if (!(v >= 0 && v < OADR_SIMPLE_LEVELS) || v != floor(v))
            return oadr__fail(c, "%svalues: a SIMPLE level must be 0, 1, 2 or 3", inner);
        iv->simple = iv->simple > (int)v ? iv->simple : (int)v;
    } else {
        oadr__ignore_type(c->ev, type);
    }
    return 0;
}

/* --- intervals ------------------------------------------------------------ */

struct oadr__period {
    const char *start;            /* NULL: not given */
    int64_t duration_us;          /* -1: not given */
    int64_t randomize_us;
};

static int oadr__period(struct oadr__ctx *c, const cJSON *obj, const char *where,
                        struct oadr__period *out)
{
    const cJSON *ip;
    char inner[64];
    out->start = NULL;
    out->duration_us = -1;
    out->randomize_us = 0;
    if (oadr__member(c, obj, where, "intervalPeriod", &ip) < 0)
        return -1;
    if (!ip)
        return 0;
    snprintf(inner, sizeof(inner), "%sintervalPeriod.", where);
    if (!cJSON_IsObject(ip))
        return oadr__fail(c, "%sintervalPeriod: must be an object", where);
    if (oadr__string(c, ip, inner, "start", false, 64, &out->start) < 0 ||
        oadr__duration(c, ip, inner, "duration", &out->duration_us) < 0 ||
        oadr__duration(c, ip, inner, "randomizeStart", &out->randomize_us) < 0)
        return -1;
    int64_t t;
    if (out->start && oadr_time_parse_start(out->start, c->now, &t) < 0)
        return oadr__fail(c, "%sstart: not an RFC 3339 time: \"%s\"", inner, out->start);
    return 0;
}

/* One interval: its id (above the previous), its time (its own period, or
 * right after the previous one, with the event's duration by default) and
 * its payloads. */
static int oadr__interval(struct oadr__ctx *c, const cJSON *j, size_t i,
                          const struct oadr__period *event_period)
{
    struct oadr_event *ev = c->ev;
    struct oadr_interval *iv = &ev->intervals[i];
    char where[40];
    snprintf(where, sizeof(where), "intervals[%zu].", i);
    if (!cJSON_IsObject(j))
        return oadr__fail(c, "intervals[%zu]: must be an object", i);
    int64_t id = 0;
    if (oadr__integer(c, j, where, "id", true, INT32_MIN, INT32_MAX, &id) < 0)
        return -1;
    if (i > 0 && id <= iv[-1].id)
        return oadr__fail(c, "%sid: %lld is not above the previous interval's %d", where,
                          (long long)id, iv[-1].id);
    iv->id = (int32_t)id;
    iv->limit_kw = NAN;
    iv->simple = -1;

    struct oadr__period own;
    if (oadr__period(c, j, where, &own) < 0)
        return -1;
    if (own.start) {
        oadr_time_parse_start(own.start, c->now, &iv->start_us);
    } else if (i > 0) {
        if (iv[-1].duration_us == OADR_FOREVER)
            return oadr__fail(c, "%sintervalPeriod: needs a start (the previous interval never "
                                 "ends)", where);
        iv->start_us = oadr_time_add(iv[-1].start_us, iv[-1].duration_us);
    } else if (event_period->start) {
        oadr_time_parse_start(event_period->start, c->now, &iv->start_us);
    } else {
        return oadr__fail(c, "%sintervalPeriod: no start, and the event gives none", where);
    }
    iv->duration_us = own.duration_us >= 0 ? own.duration_us : event_period->duration_us;
    if (iv->duration_us < 0)
        return oadr__fail(c, "%sintervalPeriod: no duration, and the event gives none", where);

    const cJSON *payloads;
    if (oadr__member(c, j, where, "payloads", &payloads) < 0)
        return -1;
    int n = cJSON_GetArraySize(payloads);
    if (!cJSON_IsArray(payloads) || n < 1 || n > OADR_PAYLOADS_MAX)
        return oadr__fail(c, "%spayloads: must be an array of 1 to %d", where, OADR_PAYLOADS_MAX);
    size_t k = 0;
    for (const cJSON *p = payloads->child; p; p = p->next, k++) {
        char pw[56];
        snprintf(pw, sizeof(pw), "%spayloads[%zu]", where, k);
        if (oadr__payload(c, p, pw, iv) < 0)
            return -1;
    }
    return 0;
}

static int oadr__intervals(struct oadr__ctx *c, const cJSON *object,
                           const struct oadr__period *period)
{
    struct oadr_event *ev = c->ev;
    const cJSON *list;
    if (oadr__member(c, object, "", "intervals", &list) < 0)
        return -1;
    int n = cJSON_GetArraySize(list);
    if (!cJSON_IsArray(list) || n < 1 || n > OADR_INTERVALS_MAX)
        return oadr__fail(c, "intervals: must be an array of 1 to %d", OADR_INTERVALS_MAX);
    size_t i = 0;
    for (const cJSON *j = list->child; j; j = j->next, i++) {
        if (oadr__interval(c, j, i, period) < 0)
            return -1;
    }
    ev->n_intervals = i;

    bool actionable = false, all_zero = true;
    int64_t first = INT64_MAX;
    for (i = 0; i < ev->n_intervals; i++) {
        const struct oadr_interval *iv = &ev->intervals[i];
        actionable = actionable || !isnan(iv->limit_kw) || iv->simple >= 0;
        all_zero = all_zero && iv->duration_us == 0;
        first = iv->start_us < first ? iv->start_us : first;
    }
    if (all_zero) {
        ev->cancel = true;
        return 0;
    }
    if (!actionable)
        return oadr__fail(c, "no payload this site acts on (IMPORT_CAPACITY_LIMIT, SIMPLE); "
                             "ignored: %s", ev->ignored[0] ? ev->ignored : "none");
    if (first > oadr_time_add(c->now, c->cfg->max_future_us))
        return oadr__fail(c, "starts too far in the future (more than %lld h ahead)",
                          (long long)(c->cfg->max_future_us / (3600 * OADR_US_PER_S)));
    return 0;
}

/* --- the event and its envelope ------------------------------------------ */

static enum oadr_verdict oadr__event(struct oadr__ctx *c, const cJSON *object)
{
    struct oadr_event *ev = c->ev;
    const char *type;
    int64_t ignored_duration;
    if (oadr__string(c, object, "", "objectType", false, 32, &type) < 0)
        return OADR_INVALID;
    if (type && strcmp(type, "EVENT") != 0)
        return oadr__fail(c, "objectType: must be EVENT"), OADR_INVALID;
    if (oadr__integer(c, object, "", "priority", false, 0, INT32_MAX, &ev->priority) < 0 ||
        oadr__descriptors(c, object) < 0 ||
        /* The event's own duration (for looping intervals) is checked, not used. */
        oadr__duration(c, object, "", "duration", &ignored_duration) < 0)
        return OADR_INVALID;
    struct oadr__period period;
    if (oadr__period(c, object, "", &period) < 0)
        return OADR_INVALID;
    if (period.randomize_us > c->cfg->max_future_us)
        return oadr__fail(c, "intervalPeriod.randomizeStart: longer than the %lld h an event may "
                             "start ahead", (long long)(c->cfg->max_future_us / (3600 * OADR_US_PER_S))),
               OADR_INVALID;
    ev->randomize_us = period.randomize_us;
    if (period.duration_us == 0) {
        ev->cancel = true; /* a zero duration cancels, whatever the intervals say */
        return OADR_EVENT;
    }
    return oadr__intervals(c, object, &period) < 0 ? OADR_INVALID : OADR_EVENT;
}

/* The operation, or -1 with the verdict in *v. */
static int oadr__operation(struct oadr__ctx *c, const cJSON *root, enum oadr_verdict *v)
{
    const char *op;
    *v = OADR_INVALID;
    if (oadr__string(c, root, "", "operation", true, 16, &op) < 0)
        return -1;
    if (strcmp(op, "CREATE") == 0)
        return OADR_CREATE;
    if (strcmp(op, "UPDATE") == 0)
        return OADR_UPDATE;
    if (strcmp(op, "DELETE") == 0)
        return OADR_DELETE;
    if (strcmp(op, "READ") == 0) {
        *v = OADR_IGNORE;
        return oadr__fail(c, "a READ notification needs nothing done");
    }
    return oadr__fail(c, "operation: must be CREATE, UPDATE or DELETE");
}

static enum oadr_verdict oadr__envelope(struct oadr__ctx *c, const cJSON *root,
                                        struct oadr_notification *out)
{
    const char *type;
    const cJSON *object;
    if (!cJSON_IsObject(root))
        return oadr__fail(c, "not a JSON object"), OADR_INVALID;
    if (oadr__member(c, root, "", "object", &object) < 0)
        return OADR_INVALID;
    if (!cJSON_IsObject(object))
        return oadr__fail(c, "object: must be an object"), OADR_INVALID;
    if (oadr__string(c, root, "", "objectType", true, 32, &type) < 0)
        return OADR_INVALID;
    if (strcmp(type, "EVENT") != 0) {
        static const char *const others[] = { "PROGRAM", "REPORT", "SUBSCRIPTION", "VEN",
                                              "RESOURCE" };
        for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
            if (strcmp(type, others[i]) == 0)
                return oadr__fail(c, "a %s notification, not an event", type), OADR_IGNORE;
        }
        return oadr__fail(c, "objectType: must be EVENT"), OADR_INVALID;
    }
    /* Read who the event is for even when the operation is bad: an event of
     * another program is ignored, not answered. */
    enum oadr_verdict v;
    char op_err[OADR_ERR_MAX] = "";
    char *err = c->err;
    c->err = op_err;
    int op = oadr__operation(c, root, &v);
    c->err = err;
    enum oadr_verdict who = oadr__identity(c, object, op == OADR_DELETE);
    if (who != OADR_EVENT)
        return who;
    if (op < 0) {
        memcpy(c->err, op_err, sizeof(op_err));
        return v;
    }
    out->operation = (enum oadr_operation)op;
    return op == OADR_DELETE ? OADR_EVENT : oadr__event(c, object);
}

enum oadr_verdict oadr_parse(const char *buf, size_t len, const struct oadr_parse_cfg *cfg,
                             int64_t now_us, struct oadr_notification *out, char *err)
{
    struct oadr__ctx c = { .cfg = cfg, .now = now_us, .err = err, .ev = &out->event };
    out->operation = OADR_CREATE;
    struct oadr_event *ev = &out->event;
    ev->id[0] = ev->program_id[0] = ev->modified[0] = ev->ignored[0] = '\0';
    ev->modified_us = INT64_MIN;
    ev->priority = OADR_PRIORITY_NONE;
    ev->randomize_us = 0;
    ev->cancel = false;
    ev->n_intervals = 0;
    err[0] = '\0';

    if (len > cfg->max_bytes)
        return oadr__fail(&c, "%zu bytes, more than the %zu allowed", len, cfg->max_bytes),
               OADR_INVALID;
    if (!oadr_utf8_ok(buf, len))
        return oadr__fail(&c, "not UTF-8 text"), OADR_INVALID;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
    if (!root)
        return oadr__fail(&c, "not JSON (at byte %zu)",
                          end && end >= buf && end <= buf + len ? (size_t)(end - buf) : len),
               OADR_INVALID;
    enum oadr_verdict v;
    size_t at = end ? (size_t)(end - buf) : len;
    while (at < len && (buf[at] == ' ' || buf[at] == '\t' || buf[at] == '\n' || buf[at] == '\r'))
        at++;
    if (at < len)
        v = (oadr__fail(&c, "text after the JSON value"), OADR_INVALID);
    else if (oadr_json_nul_escape(buf, len))
        v = (oadr__fail(&c, "\\u0000 in a string"), OADR_INVALID);
    else
        v = oadr__envelope(&c, root, out);
    cJSON_Delete(root);
    return v;
}

void oadr_interval_span(const struct oadr_interval *iv, int64_t offset_us, int64_t *start_us,
                        int64_t *end_us)
{
    *start_us = oadr_time_add(iv->start_us, offset_us);
    *end_us = iv->duration_us == OADR_FOREVER ? OADR_FOREVER
                                               : oadr_time_add(*start_us, iv->duration_us);
}
