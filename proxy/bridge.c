/* The mapping table (bridge.h), the CALLERROR codes, and the 1:1 mappings:
 * the CSMS's commands toward a charger of the other version and their
 * answers, a charger's Authorize, StatusNotification, MeterValues and
 * DataTransfer, and EVSE renumbering between two 2.0.1 peers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bridge_int.h"
#include "ocpp_msg_util.h"

const char *bridge_error_code(enum ocpp_version to, const char *code)
{
    static const struct bridge__pair to16[] = {
        { "FormatViolation", "FormationViolation" }, { "FormationViolation", "FormationViolation" },
        { "OccurrenceConstraintViolation", "OccurenceConstraintViolation" },
        { "OccurenceConstraintViolation", "OccurenceConstraintViolation" },
        { "MessageTypeNotSupported", "NotImplemented" }, { "RpcFrameworkError", "ProtocolError" },
    };
    static const struct bridge__pair to201[] = {
        { "FormationViolation", "FormatViolation" }, { "FormatViolation", "FormatViolation" },
        { "OccurenceConstraintViolation", "OccurrenceConstraintViolation" },
        { "OccurrenceConstraintViolation", "OccurrenceConstraintViolation" },
        { "MessageTypeNotSupported", "MessageTypeNotSupported" }, { "RpcFrameworkError", "RpcFrameworkError" },
    };
    static const char *const shared[] = {
        "GenericError", "InternalError", "NotImplemented", "NotSupported", "PropertyConstraintViolation",
        "ProtocolError", "SecurityError", "TypeConstraintViolation",
    };
    const char *mapped = to == OCPP_16 ? bridge__map(to16, BRIDGE__N(to16), code)
                                       : bridge__map(to201, BRIDGE__N(to201), code);
    int i = code ? ocpp_msg__lookup(code, shared, BRIDGE__N(shared)) : -1;
    return mapped ? mapped : i >= 0 ? shared[i] : "GenericError";
}

/* ---- answers that are a status ---- */

static int bridge__status(const cJSON *in, const struct bridge__pair *map, size_t n, cJSON **out)
{
    const char *st;
    int rc = bridge__object(out);
    const char *mapped = NULL;
    if (rc == 0 && (bridge__str(in, "status", 64, true, &st) < 0 || !(mapped = bridge__map(map, n, st))))
        rc = -EPROTO;
    bool ok = rc < 0 || cJSON_AddStringToObject(*out, "status", mapped);
    return bridge__done(rc, ok, out);
}

#define BRIDGE__STATUS(name, ...) \
    static int name(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out) \
    { \
        static const struct bridge__pair map[] = { __VA_ARGS__ }; \
        (void)ctx; \
        return bridge__status(in, map, BRIDGE__N(map), out); \
    }

BRIDGE__STATUS(bridge__ans_generic, { "Accepted", "Accepted" }, { "Rejected", "Rejected" })
BRIDGE__STATUS(bridge__ans_profile_201, { "Accepted", "Accepted" }, { "Rejected", "Rejected" },
               { "NotSupported", "Rejected" })
BRIDGE__STATUS(bridge__ans_availability, { "Accepted", "Accepted" }, { "Rejected", "Rejected" },
               { "Scheduled", "Scheduled" })
BRIDGE__STATUS(bridge__ans_reset_16, { "Accepted", "Accepted" }, { "Rejected", "Rejected" },
               { "Scheduled", "Accepted" })
BRIDGE__STATUS(bridge__ans_trigger, { "Accepted", "Accepted" }, { "Rejected", "Rejected" },
               { "NotImplemented", "NotImplemented" })
BRIDGE__STATUS(bridge__ans_clear, { "Accepted", "Accepted" }, { "Unknown", "Unknown" })
BRIDGE__STATUS(bridge__ans_reserve, { "Accepted", "Accepted" }, { "Faulted", "Faulted" },
               { "Occupied", "Occupied" }, { "Rejected", "Rejected" }, { "Unavailable", "Unavailable" })
BRIDGE__STATUS(bridge__ans_unlock_16, { "Unlocked", "Unlocked" }, { "UnlockFailed", "UnlockFailed" },
               { "OngoingAuthorizedTransaction", "UnlockFailed" }, { "UnknownConnector", "UnlockFailed" })
BRIDGE__STATUS(bridge__ans_unlock_201, { "Unlocked", "Unlocked" }, { "UnlockFailed", "UnlockFailed" },
               { "NotSupported", "UnlockFailed" })

/* ---- the CSMS's commands: 2.0.1 site, 1.6 charger ---- */

static int bridge__request_start_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *tag = NULL;
    long long id;
    cJSON *profile = NULL;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(in, "chargingProfile");
    int rc = bridge__object(out);
    if (rc == 0 && bridge__int(in, "remoteStartId", INT32_MIN, INT32_MAX, true, &id) < 0)
        rc = -EPROTO;
    if (rc == 0)
        rc = bridge__id_tag(cJSON_GetObjectItemCaseSensitive(in, "idToken"), &tag);
    if (rc == 0 && p)
        rc = bridge__profile_16(p, ctx, &profile);
    bool ok = rc < 0 || ((ctx->connector <= 0 || cJSON_AddNumberToObject(*out, "connectorId", ctx->connector)) &&
                         cJSON_AddStringToObject(*out, "idTag", tag) &&
                         (!profile || cJSON_AddItemToObject(*out, "chargingProfile", profile)));
    if (!ok)
        cJSON_Delete(profile);
    return bridge__done(rc, ok, out);
}

static int bridge__request_stop_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *tx;
    int rc = bridge__object(out);
    if (rc == 0 && bridge__str(in, "transactionId", 36, true, &tx) < 0)
        rc = -EPROTO;
    if (rc == 0 && ctx->tx16 == 0)
        rc = -ENOENT;
    bool ok = rc < 0 || cJSON_AddNumberToObject(*out, "transactionId", (double)ctx->tx16);
    return bridge__done(rc, ok, out);
}

/* The commands whose only 1.6 member besides a connector is a renamed one. */
static int bridge__connector_16(const cJSON *in, const struct bridge_ctx *ctx, const char *from,
                                const char *const *names, size_t n, const char *to, cJSON **out)
{
    int idx = 0;
    int rc = bridge__object(out);
    if (rc == 0 && from && ocpp_msg__need(ocpp_msg__enum(in, from, names, n, &idx)) < 0)
        rc = -EPROTO;
    bool ok = rc < 0 || (cJSON_AddNumberToObject(*out, "connectorId", ctx->connector) &&
                         (!from || cJSON_AddStringToObject(*out, to, names[idx])));
    return bridge__done(rc, ok, out);
}

static int bridge__unlock_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    return bridge__connector_16(in, ctx, NULL, NULL, 0, NULL, out);
}

static const char *const bridge__operational[] = { "Inoperative", "Operative" };

static int bridge__availability_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    return bridge__connector_16(in, ctx, "operationalStatus", bridge__operational, 2, "type", out);
}

static const struct bridge__pair bridge__trigger16[] = {
    { "BootNotification", "BootNotification" }, { "Heartbeat", "Heartbeat" },
    { "MeterValues", "MeterValues" }, { "StatusNotification", "StatusNotification" },
    { "FirmwareStatusNotification", "FirmwareStatusNotification" },
    { "LogStatusNotification", "DiagnosticsStatusNotification" },
    /* A 1.6 charger's MeterValues in a transaction become TransactionEvents. */
    { "TransactionEvent", "MeterValues" },
};

static int bridge__trigger_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *what;
    int rc = bridge__object(out);
    if (rc == 0 && bridge__str(in, "requestedMessage", 64, true, &what) < 0)
        rc = -EPROTO;
    const char *mapped = rc == 0 ? bridge__map(bridge__trigger16, BRIDGE__N(bridge__trigger16), what) : NULL;
    if (rc == 0 && !mapped)
        rc = -ENOTSUP;
    bool ok = rc < 0 || (cJSON_AddStringToObject(*out, "requestedMessage", mapped) &&
                         (ctx->connector <= 0 || cJSON_AddNumberToObject(*out, "connectorId", ctx->connector)));
    return bridge__done(rc, ok, out);
}

static int bridge__reserve_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *tag = NULL, *parent = NULL;
    long long id;
    time_t t;
    const cJSON *group = cJSON_GetObjectItemCaseSensitive(in, "groupIdToken");
    int rc = bridge__object(out);
    if (rc == 0 && (bridge__int(in, "id", INT32_MIN, INT32_MAX, true, &id) < 0 ||
                    ocpp_msg__need(ocpp_msg__time(in, "expiryDateTime", &t)) < 0))
        rc = -EPROTO;
    if (rc == 0)
        rc = bridge__id_tag(cJSON_GetObjectItemCaseSensitive(in, "idToken"), &tag);
    if (rc == 0 && group)
        rc = bridge__id_tag(group, &parent);
    bool ok = rc < 0 || (cJSON_AddNumberToObject(*out, "connectorId", ctx->connector) &&
                         bridge__copy(*out, in, "expiryDateTime", "expiryDate") &&
                         cJSON_AddStringToObject(*out, "idTag", tag) &&
                         (!parent || cJSON_AddStringToObject(*out, "parentIdTag", parent)) &&
                         cJSON_AddNumberToObject(*out, "reservationId", (double)id));
    return bridge__done(rc, ok, out);
}

static int bridge__cancel(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    long long id;
    (void)ctx;
    int rc = bridge__object(out);
    if (rc == 0 && bridge__int(in, "reservationId", INT32_MIN, INT32_MAX, true, &id) < 0)
        rc = -EPROTO;
    bool ok = rc < 0 || cJSON_AddNumberToObject(*out, "reservationId", (double)id);
    return bridge__done(rc, ok, out);
}

static int bridge__reset(const cJSON *in, bool to16, cJSON **out)
{
    static const char *const t16[] = { "Hard", "Soft" }, *const t201[] = { "Immediate", "OnIdle" };
    int idx;
    int rc = bridge__object(out);
    if (rc == 0 && ocpp_msg__need(ocpp_msg__enum(in, "type", to16 ? t201 : t16, 2, &idx)) < 0)
        rc = -EPROTO;
    bool ok = rc < 0 || cJSON_AddStringToObject(*out, "type", to16 ? t16[idx] : t201[idx]);
    return bridge__done(rc, ok, out);
}

static int bridge__reset_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    (void)ctx;
    return bridge__reset(in, true, out);
}

static int bridge__reset_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    (void)ctx;
    return bridge__reset(in, false, out);
}

/* ---- the CSMS's commands: 1.6 site, 2.0.1 charger ---- */

static int bridge__remote_start_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *tag;
    cJSON *profile = NULL;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(in, "chargingProfile");
    int rc = bridge__object(out);
    if (rc == 0 && bridge__str(in, "idTag", BRIDGE_TAG16_MAX, true, &tag) < 0)
        rc = -EPROTO;
    if (rc == 0 && p)
        rc = bridge__profile_201(p, ctx, &profile);
    cJSON *token = rc == 0 ? bridge__id_token(tag, "Central") : NULL;
    bool ok = rc < 0 || (token && (ctx->connector <= 0 || cJSON_AddNumberToObject(*out, "evseId", ctx->connector)) &&
                         cJSON_AddNumberToObject(*out, "remoteStartId", ctx->remote_start_id) &&
                         cJSON_AddItemToObject(*out, "idToken", token) &&
                         (!profile || cJSON_AddItemToObject(*out, "chargingProfile", profile)));
    if (!ok) {
        cJSON_Delete(profile);
        if (!cJSON_GetObjectItemCaseSensitive(*out, "idToken"))
            cJSON_Delete(token);
    }
    return bridge__done(rc, ok, out);
}

static int bridge__remote_stop_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    long long tx;
    int rc = bridge__object(out);
    if (rc == 0 && bridge__int(in, "transactionId", INT32_MIN, INT32_MAX, true, &tx) < 0)
        rc = -EPROTO;
    if (rc == 0 && !ctx->tx201)
        rc = -ENOENT;
    bool ok = rc < 0 || cJSON_AddStringToObject(*out, "transactionId", ctx->tx201);
    return bridge__done(rc, ok, out);
}

static bool bridge__add_evse(cJSON *out, int id, bool connector)
{
    cJSON *evse = cJSON_AddObjectToObject(out, "evse");
    return evse && cJSON_AddNumberToObject(evse, "id", id) &&
           (!connector || cJSON_AddNumberToObject(evse, "connectorId", 1));
}

static int bridge__unlock_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    (void)in;
    int rc = bridge__object(out);
    bool ok = rc < 0 || (cJSON_AddNumberToObject(*out, "evseId", ctx->connector) &&
                         cJSON_AddNumberToObject(*out, "connectorId", 1));
    return bridge__done(rc, ok, out);
}

static int bridge__availability_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    int idx;
    int rc = bridge__object(out);
    if (rc == 0 && ocpp_msg__need(ocpp_msg__enum(in, "type", bridge__operational, 2, &idx)) < 0)
        rc = -EPROTO;
    bool ok = rc < 0 || (cJSON_AddStringToObject(*out, "operationalStatus", bridge__operational[idx]) &&
                         (ctx->connector <= 0 || bridge__add_evse(*out, ctx->connector, false)));
    return bridge__done(rc, ok, out);
}

static int bridge__trigger_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    static const struct bridge__pair map[] = {
        { "BootNotification", "BootNotification" }, { "Heartbeat", "Heartbeat" },
        { "MeterValues", "MeterValues" }, { "StatusNotification", "StatusNotification" },
        { "FirmwareStatusNotification", "FirmwareStatusNotification" },
        { "DiagnosticsStatusNotification", "LogStatusNotification" },
    };
    const char *what, *mapped = NULL;
    int rc = bridge__object(out);
    if (rc == 0 && (bridge__str(in, "requestedMessage", 64, true, &what) < 0 ||
                    !(mapped = bridge__map(map, BRIDGE__N(map), what))))
        rc = -EPROTO;
    /* A status is a connector's in 2.0.1: its EVSE's only one here. */
    bool ok = rc < 0 || (cJSON_AddStringToObject(*out, "requestedMessage", mapped) &&
                         (ctx->connector <= 0 ||
                          bridge__add_evse(*out, ctx->connector, strcmp(mapped, "StatusNotification") == 0)));
    return bridge__done(rc, ok, out);
}

static int bridge__reserve_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *tag, *parent = NULL;
    long long id;
    time_t t;
    int rc = bridge__object(out);
    if (rc == 0 && (bridge__int(in, "reservationId", INT32_MIN, INT32_MAX, true, &id) < 0 ||
                    ocpp_msg__need(ocpp_msg__time(in, "expiryDate", &t)) < 0 ||
                    bridge__str(in, "idTag", BRIDGE_TAG16_MAX, true, &tag) < 0 ||
                    bridge__str(in, "parentIdTag", BRIDGE_TAG16_MAX, false, &parent) < 0))
        rc = -EPROTO;
    cJSON *token = rc == 0 ? bridge__id_token(tag, "Central") : NULL;
    cJSON *group = rc == 0 && parent ? bridge__id_token(parent, "Central") : NULL;
    bool ok = rc < 0 || (token && (!parent || group) &&
                         cJSON_AddNumberToObject(*out, "id", (double)id) &&
                         bridge__copy(*out, in, "expiryDate", "expiryDateTime") &&
                         cJSON_AddItemToObject(*out, "idToken", token) &&
                         (ctx->connector <= 0 || cJSON_AddNumberToObject(*out, "evseId", ctx->connector)) &&
                         (!group || cJSON_AddItemToObject(*out, "groupIdToken", group)));
    if (!ok) {
        if (!cJSON_GetObjectItemCaseSensitive(*out, "idToken"))
            cJSON_Delete(token);
        if (!cJSON_GetObjectItemCaseSensitive(*out, "groupIdToken"))
            cJSON_Delete(group);
    }
    return bridge__done(rc, ok, out);
}

/* ---- a charger's CALLs with a 1:1 mapping ---- */

static int bridge__authorize_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *tag;
    int rc = bridge__object(out);
    if (rc == 0 && bridge__str(in, "idTag", BRIDGE_TAG16_MAX, true, &tag) < 0)
        rc = -EPROTO;
    cJSON *token = rc == 0 ? bridge__id_token(tag, ctx->token_type) : NULL;
    bool ok = rc < 0 || (token && cJSON_AddItemToObject(*out, "idToken", token));
    if (!ok)
        cJSON_Delete(token);
    return bridge__done(rc, ok, out);
}

static int bridge__authorize_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *tag = NULL;
    (void)ctx;
    int rc = bridge__object(out);
    if (rc == 0)
        rc = bridge__id_tag(cJSON_GetObjectItemCaseSensitive(in, "idToken"), &tag);
    bool ok = rc < 0 || cJSON_AddStringToObject(*out, "idTag", tag);
    return bridge__done(rc, ok, out);
}

/* Authorize.conf: idTagInfo <-> idTokenInfo (required in both). */
static int bridge__auth_answer(const cJSON *in, bool to16, cJSON **out)
{
    cJSON *info = NULL;
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(in, to16 ? "idTokenInfo" : "idTagInfo");
    int rc = bridge__object(out);
    if (rc == 0)
        rc = to16 ? bridge__tag_info_16(src, &info) : bridge__token_info_201(src, &info);
    bool ok = rc < 0 || cJSON_AddItemToObject(*out, to16 ? "idTagInfo" : "idTokenInfo", info);
    if (!ok)
        cJSON_Delete(info);
    return bridge__done(rc, ok, out);
}

static int bridge__auth_answer_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    (void)ctx;
    return bridge__auth_answer(in, true, out);
}

static int bridge__auth_answer_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    (void)ctx;
    return bridge__auth_answer(in, false, out);
}

static int bridge__status_notification_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *status, *mapped = NULL;
    time_t t;
    int rc = bridge__object(out);
    if (rc == 0 && (bridge__str(in, "status", 32, true, &status) < 0 ||
                    !(mapped = bridge_status_201(status)) || ocpp_msg__time(in, "timestamp", &t) < 0))
        rc = -EPROTO;
    bool ok = rc < 0 || ((cJSON_GetObjectItemCaseSensitive(in, "timestamp") ? bridge__copy(*out, in, "timestamp", NULL)
                                                                           : bridge__add_time(*out, "timestamp", ctx->now)) &&
                         cJSON_AddStringToObject(*out, "connectorStatus", mapped) &&
                         cJSON_AddNumberToObject(*out, "evseId", ctx->connector) &&
                         cJSON_AddNumberToObject(*out, "connectorId", 1));
    return bridge__done(rc, ok, out);
}

static int bridge__status_notification_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    static const char *const states[] = { "Available", "Occupied", "Reserved", "Unavailable", "Faulted" };
    int st;
    time_t t;
    int rc = bridge__object(out);
    if (rc == 0 && (ocpp_msg__need(ocpp_msg__enum(in, "connectorStatus", states, 5, &st)) < 0 ||
                    ocpp_msg__need(ocpp_msg__time(in, "timestamp", &t)) < 0))
        rc = -EPROTO;
    const char *status = rc < 0 ? NULL : st == 1 ? (ctx->occupied_as ? ctx->occupied_as : "Preparing") : states[st];
    bool ok = rc < 0 || (cJSON_AddNumberToObject(*out, "connectorId", ctx->connector) &&
                         cJSON_AddStringToObject(*out, "errorCode", st == 4 ? "OtherError" : "NoError") &&
                         cJSON_AddStringToObject(*out, "status", status) &&
                         bridge__copy(*out, in, "timestamp", NULL));
    return bridge__done(rc, ok, out);
}

static int bridge__meter_values(const cJSON *in, const struct bridge_ctx *ctx, bool to16, cJSON **out)
{
    cJSON *values = NULL;
    int rc = bridge__object(out);
    if (rc == 0)
        rc = to16 ? bridge__meter_values_16(cJSON_GetObjectItemCaseSensitive(in, "meterValue"), &values)
                  : bridge__meter_values_201(cJSON_GetObjectItemCaseSensitive(in, "meterValue"), &values);
    bool ok = rc < 0 || (cJSON_AddNumberToObject(*out, to16 ? "connectorId" : "evseId", ctx->connector) &&
                         cJSON_AddItemToObject(*out, "meterValue", values));
    if (!ok)
        cJSON_Delete(values);
    return bridge__done(rc, ok, out);
}

static int bridge__meter_values_to201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    return bridge__meter_values(in, ctx, false, out);
}

static int bridge__meter_values_to16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    return bridge__meter_values(in, ctx, true, out);
}

/* DataTransfer, either way (and its answer): 1.6 data is a string, 2.0.1's
 * any JSON value, which 1.6 gets as its text. */
static int bridge__data_transfer(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *s;
    (void)ctx;
    *out = cJSON_Duplicate(in, 1);
    if (!*out)
        return -ENOMEM;
    cJSON *data = cJSON_GetObjectItemCaseSensitive(*out, "data");
    if (!cJSON_IsObject(in) || bridge__str(in, "vendorId", 255, false, &s) < 0 ||
        bridge__str(in, "messageId", 50, false, &s) < 0 || bridge__str(in, "status", 32, false, &s) < 0)
        return bridge__done(-EPROTO, true, out);
    cJSON_DeleteItemFromObjectCaseSensitive(*out, "statusInfo");
    if (!data || cJSON_IsString(data))
        return 0;
    char *text = cJSON_PrintUnformatted(data);
    bool ok = text && cJSON_ReplaceItemInObjectCaseSensitive(*out, "data", cJSON_CreateString(text));
    free(text);
    return bridge__done(0, ok, out);
}

/* ---- two 2.0.1 peers: the EVSE ids are renumbered, nothing else ---- */

static int bridge__evse(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    static const char *const paths[][2] = {
        { NULL, "evseId" }, { "evse", "id" }, { "chargingProfileCriteria", "evseId" }, { "schedule", "evseId" },
    };
    *out = NULL;
    if (!cJSON_IsObject(in))
        return -EINVAL;
    *out = cJSON_Duplicate(in, 1);
    if (!*out)
        return -ENOMEM;
    for (size_t i = 0; i < BRIDGE__N(paths); i++) {
        cJSON *obj = paths[i][0] ? cJSON_GetObjectItemCaseSensitive(*out, paths[i][0]) : *out;
        cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, paths[i][1]);
        if (!id)
            continue;
        if (!cJSON_IsNumber(id))
            return bridge__done(-EPROTO, true, out);
        cJSON_SetNumberValue(id, ctx->connector);
    }
    return 0;
}

/* ---- the table ---- */

#define V16 OCPP_16
#define V201 OCPP_201

static const struct bridge_rule bridge__rules[] = {
    /* the CSMS's commands */
    { V201, V16, "RequestStartTransaction", "RemoteStartTransaction", bridge__request_start_16, bridge__ans_generic },
    { V201, V16, "RequestStopTransaction", "RemoteStopTransaction", bridge__request_stop_16, bridge__ans_generic },
    { V201, V16, "UnlockConnector", "UnlockConnector", bridge__unlock_16, bridge__ans_unlock_201 },
    { V201, V16, "ChangeAvailability", "ChangeAvailability", bridge__availability_16, bridge__ans_availability },
    { V201, V16, "TriggerMessage", "TriggerMessage", bridge__trigger_16, bridge__ans_trigger },
    { V201, V16, "SetChargingProfile", "SetChargingProfile", bridge__set_profile_16, bridge__ans_profile_201 },
    { V201, V16, "ClearChargingProfile", "ClearChargingProfile", bridge__clear_profile_16, bridge__ans_clear },
    { V201, V16, "GetCompositeSchedule", "GetCompositeSchedule", bridge__composite_16, bridge__composite_answer_201 },
    { V201, V16, "ReserveNow", "ReserveNow", bridge__reserve_16, bridge__ans_reserve },
    { V201, V16, "CancelReservation", "CancelReservation", bridge__cancel, bridge__ans_generic },
    { V201, V16, "Reset", "Reset", bridge__reset_16, bridge__ans_generic },
    { V16, V201, "RemoteStartTransaction", "RequestStartTransaction", bridge__remote_start_201, bridge__ans_generic },
    { V16, V201, "RemoteStopTransaction", "RequestStopTransaction", bridge__remote_stop_201, bridge__ans_generic },
    { V16, V201, "UnlockConnector", "UnlockConnector", bridge__unlock_201, bridge__ans_unlock_16 },
    { V16, V201, "ChangeAvailability", "ChangeAvailability", bridge__availability_201, bridge__ans_availability },
    { V16, V201, "TriggerMessage", "TriggerMessage", bridge__trigger_201, bridge__ans_trigger },
    { V16, V201, "SetChargingProfile", "SetChargingProfile", bridge__set_profile_201, bridge__ans_generic },
    { V16, V201, "ClearChargingProfile", "ClearChargingProfile", bridge__clear_profile_201, bridge__ans_clear },
    { V16, V201, "GetCompositeSchedule", "GetCompositeSchedule", bridge__composite_201, bridge__composite_answer_16 },
    { V16, V201, "ReserveNow", "ReserveNow", bridge__reserve_201, bridge__ans_reserve },
    { V16, V201, "CancelReservation", "CancelReservation", bridge__cancel, bridge__ans_generic },
    { V16, V201, "Reset", "Reset", bridge__reset_201, bridge__ans_reset_16 },
    { V201, V201, "RequestStartTransaction", "RequestStartTransaction", bridge__evse, NULL },
    { V201, V201, "UnlockConnector", "UnlockConnector", bridge__evse, NULL },
    { V201, V201, "ChangeAvailability", "ChangeAvailability", bridge__evse, NULL },
    { V201, V201, "TriggerMessage", "TriggerMessage", bridge__evse, NULL },
    { V201, V201, "SetChargingProfile", "SetChargingProfile", bridge__evse, NULL },
    { V201, V201, "ClearChargingProfile", "ClearChargingProfile", bridge__evse, NULL },
    { V201, V201, "GetCompositeSchedule", "GetCompositeSchedule", bridge__evse, bridge__evse },
    { V201, V201, "ReserveNow", "ReserveNow", bridge__evse, NULL },
    { V201, V201, "Reset", "Reset", bridge__evse, NULL },
    { V201, V201, "RequestStopTransaction", "RequestStopTransaction", NULL, NULL },
    { V201, V201, "CancelReservation", "CancelReservation", NULL, NULL },
    /* a charger's messages */
    { V16, V201, "Authorize", "Authorize", bridge__authorize_201, bridge__auth_answer_16 },
    { V201, V16, "Authorize", "Authorize", bridge__authorize_16, bridge__auth_answer_201 },
    { V16, V201, "StatusNotification", "StatusNotification", bridge__status_notification_201, NULL },
    { V201, V16, "StatusNotification", "StatusNotification", bridge__status_notification_16, NULL },
    { V16, V201, "MeterValues", "MeterValues", bridge__meter_values_to201, NULL },
    { V201, V16, "MeterValues", "MeterValues", bridge__meter_values_to16, NULL },
    { V16, V201, "DataTransfer", "DataTransfer", bridge__data_transfer, bridge__data_transfer },
    { V201, V16, "DataTransfer", "DataTransfer", bridge__data_transfer, bridge__data_transfer },
    { V201, V201, "StatusNotification", "StatusNotification", bridge__evse, NULL },
    { V201, V201, "MeterValues", "MeterValues", bridge__evse, NULL },
    { V201, V201, "TransactionEvent", "TransactionEvent", bridge__evse, NULL },
    { V201, V201, "NotifyEVChargingNeeds", "NotifyEVChargingNeeds", bridge__evse, NULL },
    { V201, V201, "Authorize", "Authorize", NULL, NULL },
    { V201, V201, "DataTransfer", "DataTransfer", NULL, NULL },
    { V201, V201, "ReservationStatusUpdate", "ReservationStatusUpdate", NULL, NULL },
};

const struct bridge_rule *bridge_rule(enum ocpp_version from, enum ocpp_version to, const char *action)
{
    for (size_t i = 0; action && i < BRIDGE__N(bridge__rules); i++) {
        const struct bridge_rule *r = &bridge__rules[i];
        if (r->from == from && r->to == to && strcmp(r->action, action) == 0)
            return r;
    }
    return NULL;
}
