/* fast_csms's OCPP side (fast_csms.h): a minimal schema-valid CALLRESULT per
 * action, and the counts, timing and order check of the exit summary.
 * Nothing here allocates per CALL. */
#include "fast_csms.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#define FCSMS__ORDER_MAX 64 /* bytes of an order value compared */

/* What a CALL gets back. */
enum fcsms__reply { R_EMPTY, R_BOOT, R_HEARTBEAT, R_AUTHORIZE, R_START, R_ACCEPTED, R_EV_CERT };

static struct fcsms__action {
    const char *name;
    enum fcsms__reply reply;
    uint64_t count;
} fcsms__actions[] = {
    { "BootNotification", R_BOOT, 0 },
    { "Heartbeat", R_HEARTBEAT, 0 },
    { "Authorize", R_AUTHORIZE, 0 },
    { "StartTransaction", R_START, 0 },
    { "StopTransaction", R_EMPTY, 0 },
    { "MeterValues", R_EMPTY, 0 },
    { "StatusNotification", R_EMPTY, 0 },
    { "DataTransfer", R_ACCEPTED, 0 },
    { "TransactionEvent", R_EMPTY, 0 },
    { "NotifyReport", R_EMPTY, 0 },
    { "NotifyEvent", R_EMPTY, 0 },
    { "SecurityEventNotification", R_EMPTY, 0 },
    { "FirmwareStatusNotification", R_EMPTY, 0 },
    { "DiagnosticsStatusNotification", R_EMPTY, 0 },
    { "LogStatusNotification", R_EMPTY, 0 },
    { "NotifyEVChargingNeeds", R_ACCEPTED, 0 },
    { "SignCertificate", R_ACCEPTED, 0 },
    { "NotifyEVChargingSchedule", R_ACCEPTED, 0 },
    { "GetCertificateStatus", R_ACCEPTED, 0 },
    { "Get15118EVCertificate", R_EV_CERT, 0 },
    { "NotifyChargingLimit", R_EMPTY, 0 },
    { "ReportChargingProfiles", R_EMPTY, 0 },
    { "(other)", R_EMPTY, 0 }, /* last: whatever is not above gets {} */
};
#define FCSMS__N_ACTIONS (sizeof(fcsms__actions) / sizeof(fcsms__actions[0]))

/* One order value: a string's bytes (without quotes) or a number. */
struct fcsms__value {
    bool set, number;
    double num;
    size_t len;
    char text[FCSMS__ORDER_MAX];
};

/* A charge point id seen, over all its connections. */
struct fcsms__identity {
    char id[FCSMS_ID_MAX + 1];
    uint64_t calls;
    struct fcsms__value last;
};

static struct {
    const char *order_field;
    char order_key[FCSMS_ID_MAX + 4]; /* "\"field\"" */
    size_t order_key_len;             /* 0: no order check */
    struct fcsms__identity *ids;
    size_t n_ids, cap_ids;
    uint64_t count, bad_frames, out_of_order;
    uint64_t first_hr, last_hr, max_gap_hr;
    int64_t first_ms, last_ms;
    int64_t tx_id;
    time_t now_s;
    char now_iso[32];
} fcsms = { .order_field = "" };

static int64_t fcsms__wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *fcsms__now_iso(void)
{
    time_t now = time(NULL);
    if (now != fcsms.now_s) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(fcsms.now_iso, sizeof(fcsms.now_iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
        fcsms.now_s = now;
    }
    return fcsms.now_iso;
}

/* ---- identities and the order check ---- */

/* Printable ASCII without '"' and '\\': needs no JSON escaping. */
static bool fcsms__plain(const char *text, size_t max)
{
    if (strlen(text) > max)
        return false;
    for (const char *p = text; *p; p++)
        if (*p <= ' ' || *p > '~' || *p == '"' || *p == '\\')
            return false;
    return true;
}

int fcsms_set_order_field(const char *field)
{
    if (!fcsms__plain(field, FCSMS_ID_MAX))
        return -EINVAL;
    fcsms.order_field = field;
    fcsms.order_key_len = field[0] ? (size_t)snprintf(fcsms.order_key, sizeof(fcsms.order_key),
                                                      "\"%s\"", field) : 0;
    return 0;
}

long fcsms_identity(const char *id)
{
    if (!id[0] || !fcsms__plain(id, FCSMS_ID_MAX))
        return -EINVAL;
    for (size_t i = 0; i < fcsms.n_ids; i++)
        if (strcmp(fcsms.ids[i].id, id) == 0)
            return (long)i;
    if (fcsms.n_ids == fcsms.cap_ids) {
        size_t cap = fcsms.cap_ids ? fcsms.cap_ids * 2 : 64;
        struct fcsms__identity *grown = realloc(fcsms.ids, cap * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        fcsms.ids = grown;
        fcsms.cap_ids = cap;
    }
    struct fcsms__identity *e = &fcsms.ids[fcsms.n_ids];
    memset(e, 0, sizeof(*e));
    snprintf(e->id, sizeof(e->id), "%s", id);
    return (long)fcsms.n_ids++;
}

const char *fcsms_identity_name(size_t ident)
{
    return ident < fcsms.n_ids ? fcsms.ids[ident].id : "?";
}

/* The first occurrence of the order key in [at, end), or NULL (memmem is a
 * GNU extension). */
static const char *fcsms__find_key(const char *at, const char *end)
{
    size_t n = fcsms.order_key_len;
    while ((size_t)(end - at) >= n &&
           (at = memchr(at, '"', (size_t)(end - at) - n + 1)) != NULL) {
        if (memcmp(at, fcsms.order_key, n) == 0)
            return at;
        at++;
    }
    return NULL;
}

/* The value of the first "<order field>": in the payload; false if none. A
 * text scan, not a parse: the envelope parse already checked the JSON. */
static bool fcsms__order_value(const struct frame_span *p, struct fcsms__value *v)
{
    const char *end = p->ptr + p->len;
    const char *at = fcsms__find_key(p->ptr, end);
    if (!at)
        return false;
    at += fcsms.order_key_len;
    while (at < end && (*at == ' ' || *at == '\t' || *at == '\r' || *at == '\n' || *at == ':'))
        at++;
    if (at >= end)
        return false;
    const char *stop;
    if (*at == '"') {
        at++;
        stop = memchr(at, '"', (size_t)(end - at));
        if (!stop)
            return false;
        v->number = false;
    } else {
        for (stop = at; stop < end && *stop && strchr("+-.0123456789eE", *stop); stop++)
            ;
        v->number = true;
    }
    v->len = (size_t)(stop - at) < sizeof(v->text) - 1 ? (size_t)(stop - at) : sizeof(v->text) - 1;
    memcpy(v->text, at, v->len);
    v->text[v->len] = '\0';
    if (v->number)
        v->num = strtod(v->text, NULL);
    v->set = true;
    return true;
}

/* -1, 0, 1 as a is before, equal to, after b (the same kind of value). */
static int fcsms__value_cmp(const struct fcsms__value *a, const struct fcsms__value *b)
{
    if (a->number)
        return a->num < b->num ? -1 : a->num > b->num;
    int c = memcmp(a->text, b->text, a->len < b->len ? a->len : b->len);
    if (c)
        return c < 0 ? -1 : 1;
    return a->len < b->len ? -1 : a->len > b->len;
}

static void fcsms__check_order(struct fcsms__identity *e, const struct frame *f)
{
    struct fcsms__value v;
    if (!fcsms.order_key_len || !fcsms__order_value(&f->payload, &v))
        return;
    if (e->last.set && e->last.number == v.number && fcsms__value_cmp(&v, &e->last) < 0 &&
        fcsms.out_of_order++ == 0)
        fprintf(stderr, "fast_csms: first out-of-order CALL charger=%s action=%s %s=%s after %s\n",
                e->id, f->action, fcsms.order_field, v.text, e->last.text);
    e->last = v;
}

/* ---- answers ---- */

static struct fcsms__action *fcsms__action(const char *name)
{
    size_t i = 0;
    while (i < FCSMS__N_ACTIONS - 1 && strcmp(fcsms__actions[i].name, name) != 0)
        i++;
    return &fcsms__actions[i];
}

static int fcsms__payload(const struct fcsms__action *a, enum ocpp_version v, char *out, size_t cap)
{
    switch (a->reply) {
    case R_BOOT:
        return snprintf(out, cap, "{\"status\":\"Accepted\",\"currentTime\":\"%s\",\"interval\":300}",
                        fcsms__now_iso());
    case R_HEARTBEAT:
        return snprintf(out, cap, "{\"currentTime\":\"%s\"}", fcsms__now_iso());
    case R_AUTHORIZE:
        return snprintf(out, cap, "{\"%s\":{\"status\":\"Accepted\"}}",
                        v == OCPP_16 ? "idTagInfo" : "idTokenInfo");
    case R_START:
        fcsms.tx_id = fcsms.tx_id >= INT32_MAX ? 1 : fcsms.tx_id + 1;
        return snprintf(out, cap, "{\"idTagInfo\":{\"status\":\"Accepted\"},\"transactionId\":%" PRId64 "}",
                        fcsms.tx_id);
    case R_ACCEPTED:
        return snprintf(out, cap, "{\"status\":\"Accepted\"}");
    case R_EV_CERT:
        return snprintf(out, cap, "{\"status\":\"Accepted\",\"exiResponse\":\"\"}");
    case R_EMPTY:
        break;
    }
    return snprintf(out, cap, "{}");
}

static void fcsms__count(void)
{
    uint64_t hr = uv_hrtime();
    if (fcsms.count++ == 0) {
        fcsms.first_hr = hr;
        fcsms.first_ms = fcsms__wall_ms();
    } else if (hr - fcsms.last_hr > fcsms.max_gap_hr) {
        fcsms.max_gap_hr = hr - fcsms.last_hr;
    }
    fcsms.last_hr = hr;
    fcsms.last_ms = fcsms__wall_ms();
}

int fcsms_answer(size_t ident, enum ocpp_version version, const struct frame *f, char *out,
                 size_t cap)
{
    struct fcsms__action *a = fcsms__action(f->action);
    struct fcsms__identity *e = &fcsms.ids[ident];
    a->count++;
    e->calls++;
    fcsms__check_order(e, f);
    fcsms__count();
    char payload[FCSMS_ANSWER_MAX];
    int n = fcsms__payload(a, version, payload, sizeof(payload));
    if (n <= 0 || (size_t)n >= sizeof(payload))
        return -ENOSPC;
    return frame_write_result(out, cap, f->id, payload, (size_t)n);
}

void fcsms_bad_frame(void)
{
    fcsms.bad_frames++;
}

uint64_t fcsms_count(void)
{
    return fcsms.count;
}

/* ---- the summary ---- */

/* This process's user + system time, s; -1 when unknown. */
static double fcsms__cpu_s(void)
{
    uv_rusage_t ru;
    return uv_getrusage(&ru) == 0 ? (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                                        (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6
                                  : -1.0;
}

void fcsms_print_summary(uint64_t expected, bool reached, uint64_t connections)
{
    double elapsed = fcsms.count > 1 ? (double)(fcsms.last_hr - fcsms.first_hr) / 1e9 : 0.0;
    double cpu = fcsms__cpu_s();
    printf("{\"count\":%" PRIu64 ",\"expected\":%" PRIu64 ",\"reached\":%s,\"first_ms\":%" PRId64
           ",\"last_ms\":%" PRId64 ",\"elapsed_s\":%.3f,\"rate_per_s\":%.1f,\"max_gap_ms\":%.3f"
           ",\"cpu_s\":%.3f,\"connections\":%" PRIu64 ",\"actions\":{",
           fcsms.count, expected, reached ? "true" : "false", fcsms.first_ms, fcsms.last_ms,
           elapsed, elapsed > 0 ? (double)fcsms.count / elapsed : 0.0,
           (double)fcsms.max_gap_hr / 1e6, cpu, connections);
    const char *sep = "";
    for (size_t i = 0; i < FCSMS__N_ACTIONS; i++) {
        if (!fcsms__actions[i].count)
            continue;
        printf("%s\"%s\":%" PRIu64, sep, fcsms__actions[i].name, fcsms__actions[i].count);
        sep = ",";
    }
    /* fcsms_identity took only ids that need no JSON escaping. */
    printf("},\"identities\":{");
    for (size_t i = 0; i < fcsms.n_ids; i++)
        printf("%s\"%s\":%" PRIu64, i ? "," : "", fcsms.ids[i].id, fcsms.ids[i].calls);
    printf("},\"order_field\":\"%s\",\"out_of_order\":%" PRIu64 ",\"bad_frames\":%" PRIu64,
           fcsms.order_field, fcsms.out_of_order, fcsms.bad_frames);
    fcsms_calls_print_json(stdout, false);
    printf("}\n");
    fflush(stdout);
}

void fcsms_print_snapshot(uint64_t connections)
{
    printf("{\"event\":\"snapshot\",\"count\":%" PRIu64 ",\"connections\":%" PRIu64
           ",\"boots\":%" PRIu64 ",\"cpu_s\":%.3f", fcsms.count, connections,
           fcsms__action("BootNotification")->count, fcsms__cpu_s());
    fcsms_calls_print_json(stdout, true);
    printf("}\n");
    fflush(stdout);
}

void fcsms_free(void)
{
    free(fcsms.ids);
    fcsms.ids = NULL;
    fcsms.n_ids = fcsms.cap_ids = 0;
}
