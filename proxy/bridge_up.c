/* A charger's transaction messages in the site's version: a 1.6 charger's
 * Start/StopTransaction and its MeterValues during a transaction become
 * 2.0.1 TransactionEvents (Started, Updated, Ended); a 2.0.1 charger's
 * TransactionEvents become 1.6 Start/StopTransaction and MeterValues. The
 * answers go back the same way. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "bridge_int.h"
#include "ocpp_msg_util.h"

#define BRIDGE__JSON_INT 9007199254740992LL /* integers a double holds exactly */

/* 1.6 StopTransaction reason -> (2.0.1 stoppedReason, triggerReason). */
static const struct { const char *reason, *stopped, *trigger; } bridge__stops[] = {
    { "Local", "Local", "StopAuthorized" },
    { "Remote", "Remote", "RemoteStop" },
    { "EVDisconnected", "EVDisconnected", "EVCommunicationLost" },
    { "DeAuthorized", "DeAuthorized", "Deauthorized" },
    { "HardReset", "ImmediateReset", "ResetCommand" },
    { "SoftReset", "Reboot", "ResetCommand" },
    { "Reboot", "Reboot", "ResetCommand" },
    { "UnlockCommand", "Other", "UnlockCommand" },
    { "EmergencyStop", "EmergencyStop", "AbnormalCondition" },
    { "PowerLoss", "PowerLoss", "AbnormalCondition" },
    { "Other", "Other", "AbnormalCondition" },
};

/* 2.0.1 stoppedReason -> 1.6 reason. */
static const struct bridge__pair bridge__reasons16[] = {
    { "DeAuthorized", "DeAuthorized" }, { "EmergencyStop", "EmergencyStop" },
    { "EnergyLimitReached", "Other" }, { "EVDisconnected", "EVDisconnected" },
    { "GroundFault", "Other" }, { "ImmediateReset", "HardReset" }, { "Local", "Local" },
    { "LocalOutOfCredit", "Local" }, { "MasterPass", "Local" }, { "Other", "Other" },
    { "OvercurrentFault", "Other" }, { "PowerLoss", "PowerLoss" }, { "PowerQuality", "Other" },
    { "Reboot", "Reboot" }, { "Remote", "Remote" }, { "SOCLimitReached", "Other" },
    { "StoppedByEV", "Other" }, { "TimeLimitReached", "Other" }, { "Timeout", "Other" },
};

/* ---- a 1.6 charger: TransactionEvents for the site ---- */

/* The event's head: eventType, timestamp (the source's, or now), trigger,
 * seqNo and transactionInfo. */
static cJSON *bridge__event(const char *type, const cJSON *src_time, const char *trigger,
                            const struct bridge_ctx *ctx, const char *stopped)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *info = o ? cJSON_CreateObject() : NULL;
    bool ok = info && cJSON_AddStringToObject(o, "eventType", type) &&
              (src_time ? cJSON_AddItemToObject(o, "timestamp", cJSON_Duplicate(src_time, 1))
                        : bridge__add_time(o, "timestamp", ctx->now)) &&
              cJSON_AddStringToObject(o, "triggerReason", trigger) &&
              cJSON_AddNumberToObject(o, "seqNo", ctx->seq_no) &&
              cJSON_AddStringToObject(info, "transactionId", ctx->tx201 ? ctx->tx201 : "") &&
              (!ctx->charging_state || cJSON_AddStringToObject(info, "chargingState", ctx->charging_state)) &&
              (!stopped || cJSON_AddStringToObject(info, "stoppedReason", stopped)) &&
              (ctx->remote_start_id < 0 || cJSON_AddNumberToObject(info, "remoteStartId", ctx->remote_start_id));
    if (info && !cJSON_AddItemToObject(o, "transactionInfo", info)) {
        cJSON_Delete(info);
        ok = false;
    }
    if (!ok) {
        cJSON_Delete(o);
        o = NULL;
    }
    return o;
}

/* Appends one meterValue to the event's meterValue[] (made when missing). */
static bool bridge__append_value(cJSON *event, cJSON *mv)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(event, "meterValue");
    if (!arr)
        arr = cJSON_AddArrayToObject(event, "meterValue");
    if (!mv || !arr) {
        cJSON_Delete(mv);
        return false;
    }
    cJSON_AddItemToArray(arr, mv);
    return true;
}

int bridge_start_16_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *tag;
    long long meter, resv;
    time_t t;
    *out = NULL;
    if (!cJSON_IsObject(in) || bridge__str(in, "idTag", BRIDGE_TAG16_MAX, true, &tag) < 0 ||
        bridge__int(in, "meterStart", -BRIDGE__JSON_INT, BRIDGE__JSON_INT, true, &meter) < 0 ||
        ocpp_msg__need(ocpp_msg__time(in, "timestamp", &t)) < 0 ||
        bridge__int(in, "reservationId", INT32_MIN, INT32_MAX, false, &resv) < 0)
        return -EPROTO;
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(in, "timestamp");
    *out = bridge__event("Started", ts, ctx->remote_start_id >= 0 ? "RemoteStart" : "Authorized", ctx, NULL);
    if (!*out)
        return -ENOMEM;
    cJSON *token = bridge__id_token(tag, ctx->token_type);
    cJSON *evse = cJSON_AddObjectToObject(*out, "evse");
    bool ok = token && cJSON_AddItemToObject(*out, "idToken", token);
    if (!ok)
        cJSON_Delete(token);
    ok = ok && evse && cJSON_AddNumberToObject(evse, "id", ctx->connector) &&
         cJSON_AddNumberToObject(evse, "connectorId", 1) &&
         bridge__append_value(*out, bridge__energy_value_201(ts->valuestring, (double)meter, "Transaction.Begin")) &&
         bridge__copy(*out, in, "reservationId", NULL);
    return bridge__done(0, ok, out);
}

/* The trigger of periodic values: their context's. */
static const char *bridge__meter_trigger(const cJSON *values16)
{
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(values16, 0),
                                                                             "sampledValue"), 0);
    const cJSON *context = cJSON_GetObjectItemCaseSensitive(first, "context");
    const char *c = cJSON_IsString(context) ? context->valuestring : "";
    return strcmp(c, "Sample.Clock") == 0 ? "MeterValueClock" : strcmp(c, "Trigger") == 0 ? "Trigger"
                                                                                          : "MeterValuePeriodic";
}

int bridge_meter_tx_16_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const cJSON *values16 = cJSON_GetObjectItemCaseSensitive(in, "meterValue");
    cJSON *values = NULL;
    *out = NULL;
    int rc = cJSON_IsObject(in) ? bridge__meter_values_201(values16, &values) : -EINVAL;
    if (rc < 0)
        return rc;
    /* The event's time is its last reading's. */
    const cJSON *last = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(values, cJSON_GetArraySize(values) - 1),
                                                         "timestamp");
    *out = bridge__event("Updated", last, bridge__meter_trigger(values16), ctx, NULL);
    bool ok = *out && cJSON_AddItemToObject(*out, "meterValue", values);
    if (!ok)
        cJSON_Delete(values);
    return bridge__done(0, ok, out);
}

int bridge_stop_16_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *tag = NULL, *reason = "Local";
    long long meter, tx;
    time_t t;
    *out = NULL;
    if (!cJSON_IsObject(in) || bridge__str(in, "idTag", BRIDGE_TAG16_MAX, false, &tag) < 0 ||
        bridge__int(in, "meterStop", -BRIDGE__JSON_INT, BRIDGE__JSON_INT, true, &meter) < 0 ||
        bridge__int(in, "transactionId", INT32_MIN, INT32_MAX, true, &tx) < 0 ||
        ocpp_msg__need(ocpp_msg__time(in, "timestamp", &t)) < 0 ||
        bridge__str(in, "reason", 32, false, &reason) < 0)
        return -EPROTO;
    size_t r = 0;
    while (r < BRIDGE__N(bridge__stops) && strcmp(bridge__stops[r].reason, reason) != 0)
        r++;
    if (r == BRIDGE__N(bridge__stops))
        return -EPROTO;
    cJSON *values = NULL;
    int rc = 0;
    if (cJSON_GetObjectItemCaseSensitive(in, "transactionData"))
        rc = bridge__meter_values_201(cJSON_GetObjectItemCaseSensitive(in, "transactionData"), &values);
    if (rc < 0 && rc != -ENODATA)
        return rc;
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(in, "timestamp");
    *out = bridge__event("Ended", ts, bridge__stops[r].trigger, ctx, bridge__stops[r].stopped);
    bool ok = *out && (!values || cJSON_AddItemToObject(*out, "meterValue", values));
    if (!ok)
        cJSON_Delete(values);
    /* meterStop, unless the charger's own end values carry the register. */
    if (ok && isnan(bridge_energy_wh(OCPP_16, cJSON_GetObjectItemCaseSensitive(in, "transactionData"))))
        ok = bridge__append_value(*out, bridge__energy_value_201(ts->valuestring, (double)meter, "Transaction.End"));
    if (ok && tag) {
        cJSON *token = bridge__id_token(tag, ctx->token_type);
        ok = token && cJSON_AddItemToObject(*out, "idToken", token);
        if (!ok)
            cJSON_Delete(token);
    }
    return bridge__done(0, ok, out);
}

int bridge_charging_state_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    (void)in;
    *out = ctx->charging_state ? bridge__event("Updated", NULL, "ChargingStateChanged", ctx, NULL) : NULL;
    return ctx->charging_state ? (*out ? 0 : -ENOMEM) : -EINVAL;
}

int bridge_event_answer_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(in, "idTokenInfo");
    cJSON *tag_info = NULL;
    int rc = bridge__object(out);
    if (rc == 0 && !cJSON_IsObject(in))
        rc = -EINVAL;
    if (rc == 0 && info)
        rc = bridge__tag_info_16(info, &tag_info);
    /* StartTransaction.conf needs a verdict: none given is Accepted. */
    if (rc == 0 && !tag_info && ctx->tx16 != 0) {
        tag_info = cJSON_CreateObject();
        if (tag_info && !cJSON_AddStringToObject(tag_info, "status", "Accepted")) {
            cJSON_Delete(tag_info);
            tag_info = NULL;
        }
        rc = tag_info ? 0 : -ENOMEM;
    }
    bool ok = rc < 0 || ((!tag_info || cJSON_AddItemToObject(*out, "idTagInfo", tag_info)) &&
                         (ctx->tx16 == 0 || cJSON_AddNumberToObject(*out, "transactionId", (double)ctx->tx16)));
    if (!ok && !cJSON_GetObjectItemCaseSensitive(*out, "idTagInfo"))
        cJSON_Delete(tag_info);
    return bridge__done(rc, ok, out);
}

/* ---- a 2.0.1 charger: Start/Stop/MeterValues for the site ---- */

int bridge_event_read(const cJSON *in, struct bridge_event *out)
{
    static const char *const types[] = { "Started", "Updated", "Ended" };
    static const char *const states[] = { "Charging", "EVConnected", "SuspendedEV", "SuspendedEVSE", "Idle" };
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(in, "transactionInfo");
    const cJSON *evse = cJSON_GetObjectItemCaseSensitive(in, "evse");
    long long id = -1;
    int type, state = -1;
    memset(out, 0, sizeof(*out));
    out->evse = -1;
    if (!cJSON_IsObject(in) || !cJSON_IsObject(info))
        return -EINVAL;
    if (ocpp_msg__need(ocpp_msg__enum(in, "eventType", types, 3, &type)) < 0 ||
        bridge__str(info, "transactionId", 36, true, &out->tx_id) < 0 || !out->tx_id[0] ||
        ocpp_msg__enum(info, "chargingState", states, 5, &state) < 0 ||
        (evse && (!cJSON_IsObject(evse) || bridge__int(evse, "id", 0, INT32_MAX, true, &id) < 0)))
        return -EPROTO;
    out->type = (enum bridge_event_type)type;
    out->charging_state = state >= 0 ? states[state] : NULL;
    out->evse = (int)id;
    out->id_token = cJSON_GetObjectItemCaseSensitive(in, "idToken") != NULL;
    return 0;
}

/* The energy register of the event, else the last known one, else 0, in Wh. */
static long long bridge__event_wh(const cJSON *in, const struct bridge_ctx *ctx)
{
    double wh = bridge_energy_wh(OCPP_201, cJSON_GetObjectItemCaseSensitive(in, "meterValue"));
    if (isnan(wh))
        wh = ctx->meter_wh;
    return isnan(wh) ? 0 : llround(wh);
}

int bridge_event_start_201_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *tag = NULL;
    long long resv;
    time_t t;
    int rc = bridge__object(out);
    if (rc == 0 && (!cJSON_IsObject(in) || ocpp_msg__need(ocpp_msg__time(in, "timestamp", &t)) < 0 ||
                    bridge__int(in, "reservationId", INT32_MIN, INT32_MAX, false, &resv) < 0))
        rc = -EPROTO;
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(in, "idToken");
    if (rc == 0)
        rc = token ? bridge__id_tag(token, &tag) : -EINVAL;
    bool ok = rc < 0 || (cJSON_AddNumberToObject(*out, "connectorId", ctx->connector) &&
                         cJSON_AddStringToObject(*out, "idTag", tag) &&
                         cJSON_AddNumberToObject(*out, "meterStart", (double)bridge__event_wh(in, ctx)) &&
                         bridge__copy(*out, in, "reservationId", NULL) && bridge__copy(*out, in, "timestamp", NULL));
    return bridge__done(rc, ok, out);
}

int bridge_event_meter_201_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    cJSON *values = NULL;
    int rc = bridge__object(out);
    if (rc == 0)
        rc = cJSON_GetObjectItemCaseSensitive(in, "meterValue")
                 ? bridge__meter_values_16(cJSON_GetObjectItemCaseSensitive(in, "meterValue"), &values)
                 : -ENODATA;
    bool ok = rc < 0 || (cJSON_AddNumberToObject(*out, "connectorId", ctx->connector) &&
                         (ctx->tx16 == 0 || cJSON_AddNumberToObject(*out, "transactionId", (double)ctx->tx16)) &&
                         cJSON_AddItemToObject(*out, "meterValue", values));
    if (!ok)
        cJSON_Delete(values);
    return bridge__done(rc, ok, out);
}

int bridge_event_stop_201_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const char *tag = NULL, *stopped = "Local", *reason = NULL;
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(in, "transactionInfo");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(in, "idToken");
    time_t t;
    int rc = bridge__object(out);
    if (rc == 0 && (!cJSON_IsObject(in) || ocpp_msg__need(ocpp_msg__time(in, "timestamp", &t)) < 0 ||
                    bridge__str(info, "stoppedReason", 32, false, &stopped) < 0 ||
                    !(reason = bridge__map(bridge__reasons16, BRIDGE__N(bridge__reasons16), stopped))))
        rc = -EPROTO;
    if (rc == 0 && ctx->tx16 == 0)
        rc = -ENOENT;
    /* A stop token too long for 1.6 is left out: the stop stands. */
    if (rc == 0 && token && bridge__id_tag(token, &tag) < 0)
        tag = NULL;
    cJSON *data = NULL;
    if (rc == 0 && cJSON_GetObjectItemCaseSensitive(in, "meterValue")) {
        int mrc = bridge__meter_values_16(cJSON_GetObjectItemCaseSensitive(in, "meterValue"), &data);
        rc = mrc == -ENODATA ? 0 : mrc;
    }
    bool ok = rc < 0 || (cJSON_AddNumberToObject(*out, "transactionId", (double)ctx->tx16) &&
                         (!tag || cJSON_AddStringToObject(*out, "idTag", tag)) &&
                         cJSON_AddNumberToObject(*out, "meterStop", (double)bridge__event_wh(in, ctx)) &&
                         bridge__copy(*out, in, "timestamp", NULL) &&
                         cJSON_AddStringToObject(*out, "reason", reason) &&
                         (!data || cJSON_AddItemToObject(*out, "transactionData", data)));
    if (!ok && data && !cJSON_GetObjectItemCaseSensitive(*out, "transactionData"))
        cJSON_Delete(data);
    return bridge__done(rc, ok, out);
}

int bridge_event_answer_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out)
{
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(in, "idTagInfo");
    cJSON *token_info = NULL;
    (void)ctx;
    int rc = bridge__object(out);
    if (rc == 0 && !cJSON_IsObject(in))
        rc = -EINVAL;
    if (rc == 0 && info)
        rc = bridge__token_info_201(info, &token_info);
    bool ok = rc < 0 || !token_info || cJSON_AddItemToObject(*out, "idTokenInfo", token_info);
    if (!ok)
        cJSON_Delete(token_info);
    return bridge__done(rc, ok, out);
}
