/* Values both versions have in other shapes: id tokens and their verdicts,
 * meter values, connector statuses and charging states; and the small
 * helpers every mapping uses. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bridge_int.h"
#include "ocpp_msg_util.h"

/* ---- helpers ---- */

const char *bridge__map(const struct bridge__pair *pairs, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(pairs[i].from, s) == 0)
            return pairs[i].to;
    return NULL;
}

int bridge__str(const cJSON *obj, const char *name, size_t max, bool required, const char **out)
{
    int rc = ocpp_msg__str(obj, name, max, out);
    return required ? ocpp_msg__need(rc) : rc;
}

int bridge__int(const cJSON *obj, const char *name, long long lo, long long hi, bool required,
                long long *out)
{
    int rc = ocpp_msg__int(obj, name, lo, hi, out);
    return required ? ocpp_msg__need(rc) : rc;
}

bool bridge__copy(cJSON *dst, const cJSON *src, const char *name, const char *as)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(src, name);
    if (!it)
        return true;
    cJSON *dup = cJSON_Duplicate(it, 1);
    return dup && cJSON_AddItemToObject(dst, as ? as : name, dup);
}

bool bridge__add_time(cJSON *dst, const char *name, time_t t)
{
    char text[21];
    return ocpp_msg__format_time(t, text) == 0 && cJSON_AddStringToObject(dst, name, text);
}

int bridge__object(cJSON **out)
{
    *out = cJSON_CreateObject();
    return *out ? 0 : -ENOMEM;
}

int bridge__done(int rc, bool ok, cJSON **out)
{
    if (rc == 0 && !ok)
        rc = -ENOMEM;
    if (rc < 0) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

/* ---- id tokens ---- */

static const char *const bridge__token_types[] = {
    "Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress", "NoAuthorization",
};

cJSON *bridge__id_token(const char *id_tag, const char *type)
{
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "idToken", id_tag) ||
              !cJSON_AddStringToObject(o, "type", type ? type : "ISO14443"))) {
        cJSON_Delete(o);
        o = NULL;
    }
    return o;
}

int bridge__id_tag(const cJSON *id_token, const char **out)
{
    int type;
    if (!cJSON_IsObject(id_token) || ocpp_msg__str(id_token, "idToken", 36, out) != 0 ||
        ocpp_msg__enum(id_token, "type", bridge__token_types, BRIDGE__N(bridge__token_types), &type) != 0)
        return -EPROTO;
    return strlen(*out) > BRIDGE_TAG16_MAX ? -ERANGE : 0;
}

static const char *const bridge__auth16[] = { "Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx" };

int bridge__tag_info_16(const cJSON *info, cJSON **out)
{
    static const struct bridge__pair status[] = {
        { "Accepted", "Accepted" }, { "Blocked", "Blocked" }, { "ConcurrentTx", "ConcurrentTx" },
        { "Expired", "Expired" }, { "Invalid", "Invalid" }, { "NoCredit", "Invalid" },
        { "NotAllowedTypeEVSE", "Invalid" }, { "NotAtThisLocation", "Invalid" },
        { "NotAtThisTime", "Invalid" }, { "Unknown", "Invalid" },
    };
    const char *st, *parent = NULL;
    time_t expiry;
    int rc = bridge__object(out);
    if (rc == 0 && (!cJSON_IsObject(info) || bridge__str(info, "status", 32, true, &st) != 0))
        rc = -EPROTO;
    const char *mapped = rc == 0 ? bridge__map(status, BRIDGE__N(status), st) : NULL;
    if (rc == 0 && !mapped)
        rc = -EPROTO;
    if (rc == 0 && ocpp_msg__time(info, "cacheExpiryDateTime", &expiry) < 0)
        rc = -EPROTO;
    const cJSON *group = cJSON_GetObjectItemCaseSensitive(info, "groupIdToken");
    if (rc == 0 && group && bridge__id_tag(group, &parent) < 0)
        parent = NULL; /* a group the 1.6 charger cannot hold: left out */
    bool ok = rc < 0 || cJSON_AddStringToObject(*out, "status", mapped);
    if (rc == 0 && ok && cJSON_GetObjectItemCaseSensitive(info, "cacheExpiryDateTime"))
        ok = bridge__copy(*out, info, "cacheExpiryDateTime", "expiryDate");
    if (rc == 0 && ok && parent)
        ok = cJSON_AddStringToObject(*out, "parentIdTag", parent) != NULL;
    return bridge__done(rc, ok, out);
}

int bridge__token_info_201(const cJSON *info, cJSON **out)
{
    int st;
    time_t expiry;
    const char *parent = NULL;
    int rc = bridge__object(out);
    if (rc == 0 && (!cJSON_IsObject(info) ||
                    ocpp_msg__enum(info, "status", bridge__auth16, BRIDGE__N(bridge__auth16), &st) != 0 ||
                    ocpp_msg__time(info, "expiryDate", &expiry) < 0 ||
                    bridge__str(info, "parentIdTag", BRIDGE_TAG16_MAX, false, &parent) < 0))
        rc = -EPROTO;
    bool ok = rc < 0 || cJSON_AddStringToObject(*out, "status", bridge__auth16[st]);
    if (rc == 0 && ok)
        ok = bridge__copy(*out, info, "expiryDate", "cacheExpiryDateTime");
    if (rc == 0 && ok && parent) {
        cJSON *group = bridge__id_token(parent, "Central");
        ok = group && cJSON_AddItemToObject(*out, "groupIdToken", group);
        if (!ok)
            cJSON_Delete(group);
    }
    return bridge__done(rc, ok, out);
}

/* ---- meter values ---- */

static const char *const bridge__contexts[] = {
    "Interruption.Begin", "Interruption.End", "Other", "Sample.Clock", "Sample.Periodic",
    "Transaction.Begin", "Transaction.End", "Trigger",
};
static const char *const bridge__phases[] = {
    "L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1",
};
static const char *const bridge__locations[] = { "Body", "Cable", "EV", "Inlet", "Outlet" };
/* The measurands both versions know (1.6 adds Temperature and RPM, 2.0.1
 * the Net and Apparent energies). */
static const char *const bridge__measurands[] = {
    "Current.Export", "Current.Import", "Current.Offered", "Energy.Active.Export.Register",
    "Energy.Active.Import.Register", "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Register", "Energy.Active.Export.Interval",
    "Energy.Active.Import.Interval", "Energy.Reactive.Export.Interval",
    "Energy.Reactive.Import.Interval", "Frequency", "Power.Active.Export", "Power.Active.Import",
    "Power.Factor", "Power.Offered", "Power.Reactive.Export", "Power.Reactive.Import", "SoC",
    "Voltage",
};
/* 1.6 units and their 2.0.1 unit of measure (unit, multiplier). */
static const struct { const char *u16, *u201; int multiplier; } bridge__units[] = {
    { "Wh", "Wh", 0 }, { "kWh", "Wh", 3 }, { "varh", "varh", 0 }, { "kvarh", "varh", 3 },
    { "W", "W", 0 }, { "kW", "W", 3 }, { "VA", "VA", 0 }, { "kVA", "VA", 3 }, { "var", "var", 0 },
    { "kvar", "var", 3 }, { "A", "A", 0 }, { "V", "V", 0 }, { "K", "K", 0 },
    { "Celcius", "Celsius", 0 }, { "Celsius", "Celsius", 0 }, { "Fahrenheit", "Fahrenheit", 0 },
    { "Percent", "Percent", 0 },
};

/* The row of a 1.6 unit (not NULL) in bridge__units, -1 when it is none. */
static int bridge__unit_index(const char *unit)
{
    for (size_t u = 0; u < BRIDGE__N(bridge__units); u++)
        if (strcmp(bridge__units[u].u16, unit) == 0)
            return (int)u;
    return -1;
}

/* The enum members a sampled value of either version may carry, checked:
 * false when one is there but not valid (the sample is then left out). */
static bool bridge__sample_enums(const cJSON *in, cJSON *out)
{
    static const struct { const char *name; const char *const *names; size_t n; } fields[] = {
        { "context", bridge__contexts, BRIDGE__N(bridge__contexts) },
        { "measurand", bridge__measurands, BRIDGE__N(bridge__measurands) },
        { "phase", bridge__phases, BRIDGE__N(bridge__phases) },
        { "location", bridge__locations, BRIDGE__N(bridge__locations) },
    };
    for (size_t i = 0; i < BRIDGE__N(fields); i++) {
        int idx;
        int rc = ocpp_msg__enum(in, fields[i].name, fields[i].names, fields[i].n, &idx);
        if (rc < 0)
            return false;
        if (rc == 0 && !cJSON_AddStringToObject(out, fields[i].name, fields[i].names[idx]))
            return false;
    }
    return true;
}

static cJSON *bridge__sample_201(const cJSON *in)
{
    const char *text, *unit = NULL, *format = NULL;
    double v;
    if (!cJSON_IsObject(in) || ocpp_msg__str(in, "value", 64, &text) != 0 ||
        ocpp_msg__parse_decimal(text, &v) < 0 || !isfinite(v) || ocpp_msg__str(in, "unit", 16, &unit) < 0 ||
        ocpp_msg__str(in, "format", 16, &format) < 0 || (format && strcmp(format, "Raw") != 0))
        return NULL;
    int u = unit ? bridge__unit_index(unit) : 0;
    if (u < 0)
        return NULL;
    cJSON *out = cJSON_CreateObject();
    bool ok = out && cJSON_AddNumberToObject(out, "value", v) && bridge__sample_enums(in, out);
    if (ok && unit) {
        cJSON *uom = cJSON_AddObjectToObject(out, "unitOfMeasure");
        ok = uom && cJSON_AddStringToObject(uom, "unit", bridge__units[u].u201) &&
             (!bridge__units[u].multiplier ||
              cJSON_AddNumberToObject(uom, "multiplier", bridge__units[u].multiplier));
    }
    if (!ok) {
        cJSON_Delete(out);
        out = NULL;
    }
    return out;
}

static cJSON *bridge__sample_16(const cJSON *in)
{
    const cJSON *uom = cJSON_GetObjectItemCaseSensitive(in, "unitOfMeasure");
    const char *unit = NULL;
    long long mult = 0;
    double v;
    if (!cJSON_IsObject(in) || ocpp_msg__num(in, "value", &v) != 0 ||
        (uom && (!cJSON_IsObject(uom) || ocpp_msg__str(uom, "unit", 20, &unit) < 0 ||
                 ocpp_msg__int(uom, "multiplier", -9, 9, &mult) < 0)))
        return NULL;
    /* 1.6 has a list of units: the value is scaled by the multiplier. */
    if (unit && bridge__unit_index(unit) < 0)
        return NULL;
    v *= pow(10, (double)mult);
    char text[40];
    snprintf(text, sizeof(text), "%.15g", v);
    cJSON *out = cJSON_CreateObject();
    bool ok = out && isfinite(v) && cJSON_AddStringToObject(out, "value", text) &&
              bridge__sample_enums(in, out) && (!unit || cJSON_AddStringToObject(out, "unit", unit));
    if (!ok) {
        cJSON_Delete(out);
        out = NULL;
    }
    return out;
}

static int bridge__meter_values(const cJSON *arr, cJSON *(*sample)(const cJSON *), cJSON **out)
{
    const cJSON *mv;
    *out = NULL;
    if (!cJSON_IsArray(arr))
        return -EPROTO;
    *out = cJSON_CreateArray();
    if (!*out)
        return -ENOMEM;
    int rc = 0;
    bool ok = true;
    cJSON_ArrayForEach(mv, arr) {
        const cJSON *samples = cJSON_GetObjectItemCaseSensitive(mv, "sampledValue"), *sv;
        time_t t;
        if (!cJSON_IsObject(mv) || ocpp_msg__time(mv, "timestamp", &t) != 0 || !cJSON_IsArray(samples)) {
            rc = -EPROTO;
            break;
        }
        cJSON *one = cJSON_CreateObject();
        cJSON *values = one ? cJSON_CreateArray() : NULL;
        ok = values && bridge__copy(one, mv, "timestamp", NULL);
        cJSON_ArrayForEach(sv, samples) {
            cJSON *s = ok ? sample(sv) : NULL;
            if (s)
                cJSON_AddItemToArray(values, s);
        }
        if (ok && cJSON_GetArraySize(values) > 0) {
            cJSON_AddItemToObject(one, "sampledValue", values);
            cJSON_AddItemToArray(*out, one);
        } else {
            cJSON_Delete(values);
            cJSON_Delete(one);
        }
        if (!ok)
            break;
    }
    if (rc == 0 && ok && cJSON_GetArraySize(*out) == 0)
        rc = -ENODATA;
    return bridge__done(rc, ok, out);
}

int bridge__meter_values_201(const cJSON *arr16, cJSON **out)
{
    return bridge__meter_values(arr16, bridge__sample_201, out);
}

int bridge__meter_values_16(const cJSON *arr201, cJSON **out)
{
    return bridge__meter_values(arr201, bridge__sample_16, out);
}

cJSON *bridge__energy_value_201(const char *timestamp, double wh, const char *ctx_name)
{
    cJSON *mv = cJSON_CreateObject();
    cJSON *values = mv ? cJSON_AddArrayToObject(mv, "sampledValue") : NULL;
    cJSON *s = values ? cJSON_CreateObject() : NULL;
    cJSON *uom = s ? cJSON_AddObjectToObject(s, "unitOfMeasure") : NULL;
    bool ok = uom && cJSON_AddStringToObject(mv, "timestamp", timestamp) &&
              cJSON_AddNumberToObject(s, "value", wh) && cJSON_AddStringToObject(s, "context", ctx_name) &&
              cJSON_AddStringToObject(s, "measurand", "Energy.Active.Import.Register") &&
              cJSON_AddStringToObject(uom, "unit", "Wh");
    if (s)
        cJSON_AddItemToArray(values, s);
    if (!ok) {
        cJSON_Delete(mv);
        mv = NULL;
    }
    return mv;
}

/* A sample's value in Wh when it is the energy register; NAN otherwise. */
static double bridge__sample_wh(enum ocpp_version v, const cJSON *s)
{
    const char *measurand = NULL, *unit = NULL, *text;
    const cJSON *uom = cJSON_GetObjectItemCaseSensitive(s, "unitOfMeasure");
    long long mult = 0;
    double x;
    if (ocpp_msg__str(s, "measurand", 64, &measurand) < 0 ||
        (measurand && strcmp(measurand, "Energy.Active.Import.Register") != 0))
        return NAN;
    if (v == OCPP_16) {
        if (ocpp_msg__str(s, "value", 64, &text) != 0 || ocpp_msg__parse_decimal(text, &x) < 0 ||
            ocpp_msg__str(s, "unit", 16, &unit) < 0)
            return NAN;
    } else if (ocpp_msg__num(s, "value", &x) != 0 ||
               (uom && (ocpp_msg__str(uom, "unit", 20, &unit) < 0 ||
                        ocpp_msg__int(uom, "multiplier", -9, 9, &mult) < 0))) {
        return NAN;
    }
    if (unit && strcmp(unit, "Wh") != 0 && strcmp(unit, "kWh") != 0)
        return NAN;
    x *= pow(10, (double)(mult + (unit && unit[0] == 'k' ? 3 : 0)));
    return ocpp_msg__sane(OCPP_MSG__Q_ENERGY, x) ? x : NAN;
}

double bridge_energy_wh(enum ocpp_version v, const cJSON *meter_values)
{
    double wh = NAN;
    const cJSON *mv, *s;
    const cJSON *arr = cJSON_IsArray(meter_values) ? meter_values : NULL;
    cJSON_ArrayForEach(mv, arr) {
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(mv, "sampledValue")) {
            double x = bridge__sample_wh(v, s);
            if (!isnan(x))
                wh = x;
        }
    }
    return wh;
}

/* ---- statuses and charging states ---- */

const char *bridge_status_201(const char *status16)
{
    static const struct bridge__pair map[] = {
        { "Available", "Available" }, { "Preparing", "Occupied" }, { "Charging", "Occupied" },
        { "SuspendedEV", "Occupied" }, { "SuspendedEVSE", "Occupied" }, { "Finishing", "Occupied" },
        { "Reserved", "Reserved" }, { "Unavailable", "Unavailable" }, { "Faulted", "Faulted" },
    };
    return bridge__map(map, BRIDGE__N(map), status16);
}

const char *bridge_charging_state(const char *status16)
{
    static const struct bridge__pair map[] = {
        { "Charging", "Charging" }, { "SuspendedEV", "SuspendedEV" },
        { "SuspendedEVSE", "SuspendedEVSE" }, { "Preparing", "EVConnected" },
        { "Finishing", "EVConnected" },
    };
    return bridge__map(map, BRIDGE__N(map), status16);
}

bool bridge_status_in_tx(const char *status16)
{
    return status16 && (strcmp(status16, "Charging") == 0 || strcmp(status16, "SuspendedEV") == 0 ||
                        strcmp(status16, "SuspendedEVSE") == 0);
}

const char *bridge_state_status16(const char *charging_state, bool started)
{
    static const struct bridge__pair map[] = {
        { "Charging", "Charging" }, { "SuspendedEV", "SuspendedEV" },
        { "SuspendedEVSE", "SuspendedEVSE" },
    };
    if (charging_state && strcmp(charging_state, "EVConnected") == 0)
        return started ? "SuspendedEVSE" : "Preparing";
    return bridge__map(map, BRIDGE__N(map), charging_state);
}
