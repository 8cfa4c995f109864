/* Aggregate mode, a 2.0.1 site: the station's own device model. The
 * controllers the spec requires (their variables that mean something for a
 * site of chargers), the site's cap, and one EVSE per site connector;
 * GetVariables, SetVariables and GetBaseReport (answered by NotifyReports)
 * act on it. Writable variables are the gateway's 1.6 keys (agg_csms.c), so
 * both versions change the same thing and it is kept the same way. */
#include <stdio.h>
#include <string.h>

#include "agg_int.h"
#include "log.h"
#include "session.h"

#define AGG_DM__ITEMS 64        /* ItemsPerMessage of GetVariables and SetVariables */
#define AGG_DM__REPORT_ITEMS 32 /* reportData per NotifyReport */
#define AGG_DM__VALUE_MAX 128

/* Where a variable's value comes from. */
enum agg_dm_src { AGG_DM_CONST, AGG_DM_KEY, AGG_DM_CALL_TIMEOUT, AGG_DM_HOLD, AGG_DM_FRAME_BYTES, AGG_DM_ITEMS };

struct agg_dm_var {
    const char *component, *variable, *instance; /* instance: NULL none */
    enum agg_dm_src src;
    const char *value;     /* AGG_DM_CONST: the value; AGG_DM_KEY: the 1.6 key holding it */
    const char *data_type; /* DataEnumType */
    bool writable;         /* only AGG_DM_KEY ones */
    const char *unit;      /* NULL none */
};

static const struct agg_dm_var agg__vars[] = {
    { "ChargingStation", "AvailabilityState", NULL, AGG_DM_CONST, "Available", "OptionList", false, NULL },
    { "ChargingStation", "Available", NULL, AGG_DM_CONST, "true", "boolean", false, NULL },
    { "ChargingStation", "SupplyPhases", NULL, AGG_DM_CONST, "3", "integer", false, NULL },
    { "OCPPCommCtrlr", "HeartbeatInterval", NULL, AGG_DM_KEY, "HeartbeatInterval", "integer", true, "s" },
    { "OCPPCommCtrlr", "MessageTimeout", "Default", AGG_DM_CALL_TIMEOUT, NULL, "integer", false, "s" },
    { "OCPPCommCtrlr", "OfflineThreshold", NULL, AGG_DM_HOLD, NULL, "integer", false, "s" },
    { "OCPPCommCtrlr", "MessageAttempts", "TransactionEvent", AGG_DM_CONST, "1", "integer", false, NULL },
    { "OCPPCommCtrlr", "ResetRetries", NULL, AGG_DM_CONST, "0", "integer", false, NULL },
    { "DeviceDataCtrlr", "ItemsPerMessage", "GetVariables", AGG_DM_ITEMS, NULL, "integer", false, NULL },
    { "DeviceDataCtrlr", "ItemsPerMessage", "SetVariables", AGG_DM_ITEMS, NULL, "integer", false, NULL },
    { "DeviceDataCtrlr", "BytesPerMessage", "GetVariables", AGG_DM_FRAME_BYTES, NULL, "integer", false, NULL },
    { "DeviceDataCtrlr", "BytesPerMessage", "SetVariables", AGG_DM_FRAME_BYTES, NULL, "integer", false, NULL },
    { "AlignedDataCtrlr", "Interval", NULL, AGG_DM_KEY, "MeterValueSampleInterval", "integer", true, "s" },
    { "AlignedDataCtrlr", "Measurands", NULL, AGG_DM_CONST,
      "Power.Active.Import,Current.Import,Energy.Active.Import.Register", "MemberList", false, NULL },
    { "AlignedDataCtrlr", "TxEndedInterval", NULL, AGG_DM_CONST, "0", "integer", false, "s" },
    { "SampledDataCtrlr", "TxStartedMeasurands", NULL, AGG_DM_CONST, "Energy.Active.Import.Register",
      "MemberList", false, NULL },
    { "SampledDataCtrlr", "TxEndedMeasurands", NULL, AGG_DM_CONST, "Energy.Active.Import.Register",
      "MemberList", false, NULL },
    /* The chargers sample during transactions, each at its own interval. */
    { "SampledDataCtrlr", "TxUpdatedMeasurands", NULL, AGG_DM_CONST,
      "Energy.Active.Import.Register,Power.Active.Import,Current.Import", "MemberList", false, NULL },
    { "SampledDataCtrlr", "TxUpdatedInterval", NULL, AGG_DM_CONST, "0", "integer", false, "s" },
    { "AuthCtrlr", "AuthorizeRemoteStart", NULL, AGG_DM_CONST, "false", "boolean", false, NULL },
    { "AuthCtrlr", "LocalAuthorizeOffline", NULL, AGG_DM_CONST, "true", "boolean", false, NULL },
    { "AuthCtrlr", "LocalPreAuthorize", NULL, AGG_DM_CONST, "false", "boolean", false, NULL },
    { "LocalAuthListCtrlr", "Enabled", NULL, AGG_DM_CONST, "true", "boolean", false, NULL },
    { "TxCtrlr", "TxStartPoint", NULL, AGG_DM_CONST, "PowerPathClosed", "MemberList", false, NULL },
    { "TxCtrlr", "TxStopPoint", NULL, AGG_DM_CONST, "PowerPathClosed", "MemberList", false, NULL },
    { "TxCtrlr", "StopTxOnEVSideDisconnect", NULL, AGG_DM_CONST, "true", "boolean", false, NULL },
    { "TxCtrlr", "StopTxOnInvalidId", NULL, AGG_DM_CONST, "true", "boolean", false, NULL },
    { "SmartChargingCtrlr", "Enabled", NULL, AGG_DM_CONST, "true", "boolean", false, NULL },
    { "SmartChargingCtrlr", "RateUnit", NULL, AGG_DM_CONST, "A,W", "MemberList", false, NULL },
    /* The site's import cap: the CSMS may lower it, never above the config's. */
    { "SiteCtrlr", "SiteGridLimitKw", NULL, AGG_DM_KEY, "SiteGridLimitKw", "decimal", true, "kW" },
};

#define AGG_DM__N (sizeof(agg__vars) / sizeof(agg__vars[0]))

static const char *agg__str(const cJSON *o, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static bool agg__same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void agg__var_value(struct aggregate *a, const struct agg_dm_var *v, char *out, size_t cap)
{
    const struct config *cfg = a->proxy->cfg;
    switch (v->src) {
    case AGG_DM_CONST: snprintf(out, cap, "%s", v->value); break;
    case AGG_DM_KEY: agg__key_value(a, v->value, out, cap); break;
    case AGG_DM_CALL_TIMEOUT: snprintf(out, cap, "%d", cfg->upstream.call_timeout_s); break;
    case AGG_DM_HOLD: snprintf(out, cap, "%d", cfg->offline.hold_s); break;
    case AGG_DM_FRAME_BYTES: snprintf(out, cap, "%zu", cfg->limits.max_frame_bytes); break;
    case AGG_DM_ITEMS: snprintf(out, cap, "%d", AGG_DM__ITEMS); break;
    }
}

/* The 2.0.1 availability of a site connector (its EVSE). */
static const char *agg__evse_state(struct aggregate *a, int number)
{
    const char *state = bridge_status_201(agg__status_of(a, number));
    return state ? state : "Unavailable";
}

enum agg_dm_found { AGG_DM_FOUND, AGG_DM_NO_COMPONENT, AGG_DM_NO_VARIABLE };

/* The variable a request names: a table row (*row), or an EVSE's
 * AvailabilityState (*evse its number). */
static enum agg_dm_found agg__find(struct aggregate *a, const cJSON *item, const struct agg_dm_var **row,
                                   int *evse)
{
    const cJSON *comp = cJSON_GetObjectItemCaseSensitive(item, "component");
    const cJSON *var = cJSON_GetObjectItemCaseSensitive(item, "variable");
    const char *cname = agg__str(comp, "name"), *cinst = agg__str(comp, "instance");
    const char *vname = agg__str(var, "name"), *vinst = agg__str(var, "instance");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(comp, "evse");
    *row = NULL;
    *evse = 0;
    if (!cname || !vname)
        return AGG_DM_NO_COMPONENT;
    if (strcmp(cname, "EVSE") == 0) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "id");
        if (!cJSON_IsNumber(id) || !agg_map_slot(&a->map, id->valueint) || cinst)
            return AGG_DM_NO_COMPONENT;
        *evse = id->valueint;
        return strcmp(vname, "AvailabilityState") == 0 && !vinst ? AGG_DM_FOUND : AGG_DM_NO_VARIABLE;
    }
    bool component = false;
    for (size_t i = 0; i < AGG_DM__N; i++) {
        const struct agg_dm_var *v = &agg__vars[i];
        if (strcmp(v->component, cname) != 0 || cinst || ev)
            continue;
        component = true;
        if (strcmp(v->variable, vname) == 0 && agg__same(v->instance, vinst)) {
            *row = v;
            return AGG_DM_FOUND;
        }
    }
    return component ? AGG_DM_NO_VARIABLE : AGG_DM_NO_COMPONENT;
}

/* A result's echo of what was asked: component, variable, attributeType. */
static cJSON *agg__result(const cJSON *item, const char *status)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "attributeStatus", status);
    const char *const copied[] = { "attributeType", "component", "variable" };
    for (size_t i = 0; i < 3; i++) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(item, copied[i]);
        if (it)
            cJSON_AddItemToObject(r, copied[i], cJSON_Duplicate(it, 1));
    }
    return r;
}

static bool agg__actual(const cJSON *item)
{
    const char *type = agg__str(item, "attributeType");
    return !type || strcmp(type, "Actual") == 0;
}

/* GetVariables / SetVariables: one result per item (set: whether to write). */
static void agg__variables(struct aggregate *a, const struct frame *f, const cJSON *payload, bool set)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(payload, set ? "setVariableData" : "getVariableData");
    if (!cJSON_IsArray(items) || cJSON_GetArraySize(items) < 1) {
        agg__refuse(a, f->id, "FormationViolation", "no variables named");
        return;
    }
    if (cJSON_GetArraySize(items) > AGG_DM__ITEMS) {
        agg__refuse(a, f->id, "OccurrenceConstraintViolation", "more than ItemsPerMessage variables");
        return;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, items) {
        /* Each result echoes its component and variable: they must be there. */
        if (!agg__str(cJSON_GetObjectItemCaseSensitive(item, "component"), "name") ||
            !agg__str(cJSON_GetObjectItemCaseSensitive(item, "variable"), "name")) {
            agg__refuse(a, f->id, "FormationViolation", "a variable without its component or name");
            return;
        }
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *results = cJSON_AddArrayToObject(o, set ? "setVariableResult" : "getVariableResult");
    cJSON_ArrayForEach(item, items) {
        const struct agg_dm_var *row;
        int evse;
        enum agg_dm_found found = agg__find(a, item, &row, &evse);
        const char *value = agg__str(item, "attributeValue");
        const char *status = found == AGG_DM_NO_COMPONENT ? "UnknownComponent"
                             : found == AGG_DM_NO_VARIABLE ? "UnknownVariable"
                             : !agg__actual(item) ? "NotSupportedAttributeType"
                             : !set ? "Accepted"
                             : !row || !row->writable || !value ? "Rejected"
                             : strcmp(agg__change_key(a, row->value, value), "Accepted") == 0 ? "Accepted"
                                                                                             : "Rejected";
        cJSON *r = agg__result(item, status);
        if (!set && strcmp(status, "Accepted") == 0) {
            char text[AGG_DM__VALUE_MAX];
            if (row)
                agg__var_value(a, row, text, sizeof(text));
            else
                snprintf(text, sizeof(text), "%s", agg__evse_state(a, evse));
            cJSON_AddStringToObject(r, "attributeValue", text);
        }
        if (set)
            log_info("proxy", "CSMS set a variable of the site site=%s component=%s variable=%s status=%s",
                     a->site->id, agg__str(cJSON_GetObjectItemCaseSensitive(item, "component"), "name"),
                     agg__str(cJSON_GetObjectItemCaseSensitive(item, "variable"), "name"), status);
        cJSON_AddItemToArray(results, r);
    }
    agg__reply(a, f->id, o);
    cJSON_Delete(o);
}

/* ---- reports ---- */

static cJSON *agg__report_item(const char *component, int evse, const char *variable, const char *instance,
                               const char *value, bool writable, const char *data_type, const char *unit)
{
    cJSON *d = cJSON_CreateObject();
    cJSON *comp = cJSON_AddObjectToObject(d, "component");
    cJSON_AddStringToObject(comp, "name", component);
    if (evse > 0)
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(comp, "evse"), "id", evse);
    cJSON *var = cJSON_AddObjectToObject(d, "variable");
    cJSON_AddStringToObject(var, "name", variable);
    if (instance)
        cJSON_AddStringToObject(var, "instance", instance);
    cJSON *attr = cJSON_CreateObject();
    cJSON_AddStringToObject(attr, "type", "Actual");
    cJSON_AddStringToObject(attr, "value", value);
    cJSON_AddStringToObject(attr, "mutability", writable ? "ReadWrite" : "ReadOnly");
    cJSON_AddBoolToObject(attr, "persistent", true);
    cJSON_AddBoolToObject(attr, "constant", false);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "variableAttribute"), attr);
    cJSON *chars = cJSON_AddObjectToObject(d, "variableCharacteristics");
    if (unit)
        cJSON_AddStringToObject(chars, "unit", unit);
    cJSON_AddStringToObject(chars, "dataType", data_type);
    /* The lists' allowed values: what the site has. */
    if (strcmp(data_type, "OptionList") == 0 || strcmp(data_type, "MemberList") == 0)
        cJSON_AddStringToObject(chars, "valuesList", strcmp(variable, "AvailabilityState") == 0
                                                        ? "Available,Occupied,Reserved,Unavailable,Faulted"
                                                        : value);
    cJSON_AddBoolToObject(chars, "supportsMonitoring", false);
    return d;
}

/* Sends the report's items in NotifyReports of AGG_DM__REPORT_ITEMS. */
static void agg__notify_report(struct aggregate *a, int request_id, cJSON *items)
{
    char now[32];
    agg__now(now);
    int total = cJSON_GetArraySize(items), seq = 0;
    for (int start = 0; start < total; start += AGG_DM__REPORT_ITEMS, seq++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "requestId", request_id);
        cJSON_AddStringToObject(o, "generatedAt", now);
        cJSON_AddNumberToObject(o, "seqNo", seq);
        cJSON_AddBoolToObject(o, "tbc", start + AGG_DM__REPORT_ITEMS < total);
        cJSON *data = cJSON_AddArrayToObject(o, "reportData");
        for (int i = start; i < total && i < start + AGG_DM__REPORT_ITEMS; i++)
            cJSON_AddItemToArray(data, cJSON_Duplicate(cJSON_GetArrayItem(items, i), 1));
        agg__emit(a, "NotifyReport", o);
        cJSON_Delete(o);
    }
}

static void agg__base_report(struct aggregate *a, const struct frame *f, const cJSON *payload)
{
    const char *base = agg__str(payload, "reportBase");
    const cJSON *request = cJSON_GetObjectItemCaseSensitive(payload, "requestId");
    bool full = base && strcmp(base, "FullInventory") == 0;
    bool config = base && strcmp(base, "ConfigurationInventory") == 0;
    if (!cJSON_IsNumber(request) || (!full && !config)) {
        /* SummaryInventory (the components' problems) is not kept. */
        agg__reply_status(a, f->id, cJSON_IsNumber(request) && base ? "NotSupported" : "Rejected");
        return;
    }
    agg__reply_status(a, f->id, "Accepted");
    cJSON *items = cJSON_CreateArray();
    char value[AGG_DM__VALUE_MAX];
    for (size_t i = 0; i < AGG_DM__N; i++) {
        const struct agg_dm_var *v = &agg__vars[i];
        if (config && !v->writable)
            continue;
        agg__var_value(a, v, value, sizeof(value));
        cJSON_AddItemToArray(items, agg__report_item(v->component, 0, v->variable, v->instance, value,
                                                     v->writable, v->data_type, v->unit));
    }
    for (size_t n = 1; full && n <= a->map.n; n++)
        if (agg_map_slot(&a->map, (int)n))
            cJSON_AddItemToArray(items, agg__report_item("EVSE", (int)n, "AvailabilityState", NULL,
                                                         agg__evse_state(a, (int)n), false, "OptionList", NULL));
    log_info("proxy", "site's device model reported site=%s base=%s variables=%d", a->site->id, base,
             cJSON_GetArraySize(items));
    agg__notify_report(a, request->valueint, items);
    cJSON_Delete(items);
}

bool agg__device_model(struct aggregate *a, const struct frame *f, const cJSON *payload)
{
    if (strcmp(f->action, "GetVariables") == 0)
        agg__variables(a, f, payload, false);
    else if (strcmp(f->action, "SetVariables") == 0)
        agg__variables(a, f, payload, true);
    else if (strcmp(f->action, "GetBaseReport") == 0)
        agg__base_report(a, f, payload);
    else if (strcmp(f->action, "GetReport") == 0)
        agg__reply_status(a, f->id, "NotSupported"); /* by criteria: the base reports only */
    else
        return false;
    return true;
}
