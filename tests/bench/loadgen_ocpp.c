/* What a loadgen charger says (loadgen.h): one connector charging session
 * after another, in OCPP 1.6J or 2.0.1, with payloads the size real chargers
 * send (a MeterValues carries energy, power and three phase currents), and
 * what it answers the gateway's and the CSMS's CALLs with: smart-charging
 * abilities (1.6 GetConfiguration, 2.0.1 GetVariables) from a fixed table,
 * profiles accepted, remote commands refused.
 */
#include "loadgen.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#define LG__PAYLOAD_MAX 1536
#define LG__VALUE_MAX 64

static unsigned lg__meters = 10;

void lg_ocpp_set_meters_per_session(unsigned n)
{
    lg__meters = n ? n : 1;
}

/* ---- writing ---- */

/* Now as RFC 3339 UTC with milliseconds: one format, so that fast_csms's
 * order check can compare them as strings. */
static void lg__now(char out[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* [2,"<id>","<action>",<payload>], remembered as the CALL in flight. */
static int lg__call(struct lg_charger *c, const char *action, const char *payload, int plen,
                    char *buf, size_t cap)
{
    if (plen < 0 || plen >= LG__PAYLOAD_MAX)
        return -ENOSPC;
    snprintf(c->call_id, sizeof(c->call_id), "m%" PRIu64, ++c->next_msg);
    c->call_action = action;
    return frame_write_call(buf, cap, c->call_id, action, payload, (size_t)plen);
}

int lg_boot_call(struct lg_charger *c, char *buf, size_t cap)
{
    char p[LG__PAYLOAD_MAX];
    int n = c->version == OCPP_16
        ? snprintf(p, sizeof(p), "{\"chargePointVendor\":\"sitegate-bench\",\"chargePointModel\":"
                   "\"loadgen\",\"chargePointSerialNumber\":\"%s\",\"firmwareVersion\":\"1.0\"}", c->id)
        : snprintf(p, sizeof(p), "{\"chargingStation\":{\"model\":\"loadgen\",\"vendorName\":"
                   "\"sitegate-bench\",\"serialNumber\":\"%s\",\"firmwareVersion\":\"1.0\"},"
                   "\"reason\":\"PowerUp\"}", c->id);
    return lg__call(c, "BootNotification", p, n, buf, cap);
}

/* The steps of a session; the meter steps repeat lg__meters times. */
enum lg__step { S_AVAILABLE, S_AUTHORIZE, S_START, S_CHARGING, S_METER, S_STOP, S_FREE, S_HEARTBEAT };

static enum lg__step lg__step_of(unsigned step)
{
    if (step < S_METER)
        return (enum lg__step)step;
    if (step < S_METER + lg__meters)
        return S_METER;
    return (enum lg__step)(step - lg__meters + 1);
}

/* 1.6 sampled values: energy, power, current per phase. */
#define LG__SV16(value, measurand, extra, unit) \
    "{\"value\":\"" value "\",\"context\":\"Sample.Periodic\",\"measurand\":\"" measurand "\"" \
    extra ",\"unit\":\"" unit "\"}"

static int lg__sampled16(const struct lg_charger *c, const char *ts, char *p, size_t cap)
{
    return snprintf(p, cap, "{\"timestamp\":\"%s\",\"sampledValue\":["
                    LG__SV16("%" PRIu64, "Energy.Active.Import.Register", "", "Wh") ","
                    LG__SV16("11040", "Power.Active.Import", "", "W") ","
                    LG__SV16("16.0", "Current.Import", ",\"phase\":\"L1\"", "A") ","
                    LG__SV16("16.0", "Current.Import", ",\"phase\":\"L2\"", "A") ","
                    LG__SV16("16.0", "Current.Import", ",\"phase\":\"L3\"", "A") "]}",
                    ts, c->energy_wh);
}

static int lg__next16(struct lg_charger *c, enum lg__step st, const char *ts, char *p, size_t cap,
                      const char **action)
{
    char mv[1024];
    switch (st) {
    case S_AVAILABLE:
    case S_FREE:
        *action = "StatusNotification";
        return snprintf(p, cap, "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Available\","
                        "\"timestamp\":\"%s\"}", ts);
    case S_CHARGING:
        *action = "StatusNotification";
        return snprintf(p, cap, "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Charging\","
                        "\"timestamp\":\"%s\"}", ts);
    case S_AUTHORIZE:
        *action = "Authorize";
        return snprintf(p, cap, "{\"idTag\":\"TAG%05" PRIu32 "\"}", c->index);
    case S_START:
        *action = "StartTransaction";
        return snprintf(p, cap, "{\"connectorId\":1,\"idTag\":\"TAG%05" PRIu32 "\",\"meterStart\":%"
                        PRIu64 ",\"timestamp\":\"%s\"}", c->index, c->energy_wh, ts);
    case S_METER:
        *action = "MeterValues";
        c->energy_wh += 100;
        lg__sampled16(c, ts, mv, sizeof(mv));
        return snprintf(p, cap, "{\"connectorId\":1,\"transactionId\":%" PRId64
                        ",\"meterValue\":[%s]}", c->tx_id, mv);
    case S_STOP:
        *action = "StopTransaction";
        return snprintf(p, cap, "{\"transactionId\":%" PRId64 ",\"idTag\":\"TAG%05" PRIu32 "\","
                        "\"meterStop\":%" PRIu64 ",\"timestamp\":\"%s\",\"reason\":\"Local\"}",
                        c->tx_id, c->index, c->energy_wh, ts);
    case S_HEARTBEAT:
        break;
    }
    *action = "Heartbeat";
    return snprintf(p, cap, "{}");
}

/* 2.0.1 meter values: the same measurands, numbers this time. */
#define LG__SV201(value, measurand, extra) \
    "{\"value\":" value ",\"context\":\"Sample.Periodic\",\"measurand\":\"" measurand "\"" \
    extra "}"

static int lg__sampled201(const struct lg_charger *c, const char *ts, char *p, size_t cap)
{
    return snprintf(p, cap, "[{\"timestamp\":\"%s\",\"sampledValue\":["
                    LG__SV201("%" PRIu64, "Energy.Active.Import.Register", "") ","
                    LG__SV201("11040", "Power.Active.Import", "") ","
                    LG__SV201("16.0", "Current.Import", ",\"phase\":\"L1\"") ","
                    LG__SV201("16.0", "Current.Import", ",\"phase\":\"L2\"") ","
                    LG__SV201("16.0", "Current.Import", ",\"phase\":\"L3\"") "]}]",
                    ts, c->energy_wh);
}

/* A TransactionEvent; the transaction id is the charger's own (one per session). */
static int lg__event201(struct lg_charger *c, const char *type, const char *trigger,
                        const char *extra, const char *ts, char *p, size_t cap)
{
    char mv[1024];
    lg__sampled201(c, ts, mv, sizeof(mv));
    return snprintf(p, cap, "{\"eventType\":\"%s\",\"timestamp\":\"%s\",\"triggerReason\":\"%s\","
                    "\"seqNo\":%" PRIu32 ",\"transactionInfo\":{\"transactionId\":\"%s-%" PRId64 "\""
                    "%s},\"evse\":{\"id\":1,\"connectorId\":1},\"meterValue\":%s}",
                    type, ts, trigger, c->seq_no++, c->id, c->tx_id, extra, mv);
}

static int lg__next201(struct lg_charger *c, enum lg__step st, const char *ts, char *p, size_t cap,
                       const char **action)
{
    switch (st) {
    case S_AVAILABLE:
    case S_FREE:
    case S_CHARGING:
        *action = "StatusNotification";
        return snprintf(p, cap, "{\"timestamp\":\"%s\",\"connectorStatus\":\"%s\",\"evseId\":1,"
                        "\"connectorId\":1}", ts, st == S_CHARGING ? "Occupied" : "Available");
    case S_AUTHORIZE:
        *action = "Authorize";
        return snprintf(p, cap, "{\"idToken\":{\"idToken\":\"TAG%05" PRIu32
                        "\",\"type\":\"ISO14443\"}}", c->index);
    case S_START:
        *action = "TransactionEvent";
        c->tx_id++;
        c->seq_no = 0;
        return lg__event201(c, "Started", "Authorized", ",\"chargingState\":\"Charging\"", ts, p, cap);
    case S_METER:
        *action = "TransactionEvent";
        c->energy_wh += 100;
        return lg__event201(c, "Updated", "MeterValuePeriodic", "", ts, p, cap);
    case S_STOP:
        *action = "TransactionEvent";
        return lg__event201(c, "Ended", "StopAuthorized", ",\"stoppedReason\":\"Local\"", ts, p, cap);
    case S_HEARTBEAT:
        break;
    }
    *action = "Heartbeat";
    return snprintf(p, cap, "{}");
}

int lg_next_call(struct lg_charger *c, char *buf, size_t cap)
{
    char ts[32], p[LG__PAYLOAD_MAX];
    const char *action;
    lg__now(ts);
    if (c->step == S_AVAILABLE) /* the CALLs of one session, Authorize to Heartbeat */
        c->beats = c->index % (S_HEARTBEAT - S_AUTHORIZE + lg__meters);
    else if (c->beats) {
        c->beats--;
        return lg__call(c, "Heartbeat", "{}", 2, buf, cap);
    }
    enum lg__step st = lg__step_of(c->step);
    int n = c->version == OCPP_16 ? lg__next16(c, st, ts, p, sizeof(p), &action)
                                  : lg__next201(c, st, ts, p, sizeof(p), &action);
    /* S_AVAILABLE only once, after the boot: the sessions loop from Authorize. */
    c->step = st == S_HEARTBEAT ? S_AUTHORIZE : c->step + 1;
    return lg__call(c, action, p, n, buf, cap);
}

/* ---- reading answers ---- */

/* The raw value of the first "<key>": in a payload (a string without its
 * quotes, or a number); false if none. A text scan: the envelope parse has
 * checked the JSON, and these payloads come from a test CSMS. */
static bool lg__value(const struct frame_span *p, const char *key, char out[LG__VALUE_MAX])
{
    size_t klen = strlen(key);
    const char *at = p->ptr, *end = p->ptr + p->len;
    for (; at + klen + 2 <= end; at++) {
        if (*at != '"' || memcmp(at + 1, key, klen) != 0 || at[klen + 1] != '"')
            continue;
        at += klen + 2;
        while (at < end && (*at == ' ' || *at == ':'))
            at++;
        bool str = at < end && *at == '"';
        at += str;
        size_t n = 0;
        while (at + n < end && n < LG__VALUE_MAX - 1 &&
               (str ? at[n] != '"' : at[n] != ',' && at[n] != '}'))
            n++;
        memcpy(out, at, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

int lg_on_answer(struct lg_charger *c, const struct frame *f)
{
    char v[LG__VALUE_MAX];
    if (strcmp(c->call_action, "BootNotification") == 0)
        return f->type == FRAME_RESULT && lg__value(&f->payload, "status", v) &&
               strcmp(v, "Accepted") == 0 ? 0 : -EPERM;
    if (c->version == OCPP_16 && strcmp(c->call_action, "StartTransaction") == 0 &&
        f->type == FRAME_RESULT && lg__value(&f->payload, "transactionId", v))
        c->tx_id = strtoll(v, NULL, 10);
    return 0;
}

/* ---- answering the CSMS's and the gateway's CALLs ---- */

static struct lg__answered {
    const char *action;
    uint64_t n;
} lg__answered[] = {
    { "GetConfiguration", 0 }, { "GetVariables", 0 }, { "SetChargingProfile", 0 },
    { "ClearChargingProfile", 0 }, { "TriggerMessage", 0 }, { "ChangeConfiguration", 0 },
    { "GetCompositeSchedule", 0 }, { "RemoteStartTransaction", 0 },
    { "RemoteStopTransaction", 0 }, { "RequestStartTransaction", 0 },
    { "RequestStopTransaction", 0 }, { "Reset", 0 }, { "DataTransfer", 0 },
    { "(other)", 0 }, /* last: answered NotImplemented */
};
#define LG__N_ANSWERED (sizeof(lg__answered) / sizeof(lg__answered[0]))

/* 1.6 configuration keys and 2.0.1 variables a smart-charging charger has. */
static const struct { const char *key, *value; } lg__keys16[] = {
    { "SupportedFeatureProfiles", "Core,SmartCharging,RemoteTrigger" },
    { "ChargeProfileMaxStackLevel", "10" },
    { "ChargingScheduleAllowedChargingRateUnit", "Current,Power" },
    { "MaxChargingProfilesInstalled", "10" },
    { "HeartbeatInterval", "300" },
    { "MeterValueSampleInterval", "10" },
    { "NumberOfConnectors", "1" },
};
static const struct { const char *component, *variable, *value; } lg__vars201[] = {
    { "SmartChargingCtrlr", "Available", "true" },
    { "SmartChargingCtrlr", "Enabled", "true" },
    { "SmartChargingCtrlr", "ProfileStackLevel", "10" },
    { "SmartChargingCtrlr", "RateUnit", "A,W" },
    { "OCPPCommCtrlr", "HeartbeatInterval", "300" },
};
#define LG__N(a) (sizeof(a) / sizeof((a)[0]))

/* The keys asked for (all when the list is missing or empty). */
static cJSON *lg__get_configuration(const cJSON *req)
{
    const cJSON *asked = cJSON_GetObjectItemCaseSensitive(req, "key");
    bool all = cJSON_GetArraySize(asked) == 0;
    cJSON *out = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(out, "configurationKey");
    for (size_t i = 0; list && i < LG__N(lg__keys16); i++) {
        bool want = all;
        const cJSON *k;
        cJSON_ArrayForEach(k, asked)
            want |= cJSON_IsString(k) && strcmp(k->valuestring, lg__keys16[i].key) == 0;
        cJSON *e = want ? cJSON_CreateObject() : NULL;
        if (e && cJSON_AddItemToArray(list, e)) {
            cJSON_AddStringToObject(e, "key", lg__keys16[i].key);
            cJSON_AddBoolToObject(e, "readonly", true);
            cJSON_AddStringToObject(e, "value", lg__keys16[i].value);
        }
    }
    return out;
}

static const char *lg__variable(const char *component, const char *variable)
{
    for (size_t i = 0; i < LG__N(lg__vars201); i++)
        if (strcmp(lg__vars201[i].component, component) == 0 &&
            strcmp(lg__vars201[i].variable, variable) == 0)
            return lg__vars201[i].value;
    return NULL;
}

/* One result per variable asked for, its component and variable echoed. */
static cJSON *lg__get_variables(const cJSON *req)
{
    cJSON *out = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(out, "getVariableResult");
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(req, "getVariableData")) {
        const cJSON *comp = cJSON_GetObjectItemCaseSensitive(e, "component");
        const cJSON *var = cJSON_GetObjectItemCaseSensitive(e, "variable");
        const char *cn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(comp, "name"));
        const char *vn = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(var, "name"));
        const char *value = cn && vn ? lg__variable(cn, vn) : NULL;
        cJSON *r = cJSON_CreateObject();
        if (!list || !r || !cJSON_AddItemToArray(list, r))
            continue;
        cJSON_AddStringToObject(r, "attributeStatus", value ? "Accepted" : "UnknownVariable");
        if (value)
            cJSON_AddStringToObject(r, "attributeValue", value);
        cJSON_AddItemToObject(r, "component", cJSON_Duplicate(comp, true));
        cJSON_AddItemToObject(r, "variable", cJSON_Duplicate(var, true));
    }
    return out;
}

/* A reading query's answer, printed into p; its length or -ENOSPC. */
static int lg__query(const struct frame *f, bool v16, char *p, size_t cap)
{
    cJSON *req = cJSON_ParseWithLength(f->payload.ptr, f->payload.len);
    cJSON *out = v16 ? lg__get_configuration(req) : lg__get_variables(req);
    int n = out && cJSON_PrintPreallocated(out, p, (int)cap, false) ? (int)strlen(p) : -ENOSPC;
    cJSON_Delete(req);
    cJSON_Delete(out);
    return n;
}

int lg_answer_call(struct lg_charger *c, const struct frame *f, char *buf, size_t cap)
{
    size_t i = 0;
    while (i < LG__N_ANSWERED - 1 && strcmp(lg__answered[i].action, f->action) != 0)
        i++;
    lg__answered[i].n++;
    const char *a = lg__answered[i].action;
    bool v16 = c->version == OCPP_16;
    char p[LG__PAYLOAD_MAX];
    int n;
    if (strcmp(a, "GetConfiguration") == 0 || strcmp(a, "GetVariables") == 0)
        n = lg__query(f, v16, p, sizeof(p));
    else if (strcmp(a, "SetChargingProfile") == 0 || strcmp(a, "ClearChargingProfile") == 0 ||
             strcmp(a, "ChangeConfiguration") == 0)
        n = snprintf(p, sizeof(p), "{\"status\":\"Accepted\"}");
    else if (strcmp(a, "DataTransfer") == 0)
        n = snprintf(p, sizeof(p), "{\"status\":\"UnknownVendorId\"}");
    else if (strcmp(a, "(other)") != 0)
        n = snprintf(p, sizeof(p), "{\"status\":\"Rejected\"}");
    else
        return frame_write_error(buf, cap, f->id, "NotImplemented", "not in this bench charger");
    return n < 0 ? n : frame_write_result(buf, cap, f->id, p, (size_t)n);
}

void lg_ocpp_print_answered(FILE *out)
{
    const char *sep = "";
    fputc('{', out);
    for (size_t i = 0; i < LG__N_ANSWERED; i++) {
        if (!lg__answered[i].n)
            continue;
        fprintf(out, "%s\"%s\":%" PRIu64, sep, lg__answered[i].action, lg__answered[i].n);
        sep = ",";
    }
    fputc('}', out);
}
