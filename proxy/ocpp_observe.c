/* Reading relayed traffic: what the balancer needs from a charger's CALLs
 * (status, transactions, the EV's needs; meter values are ocpp_meter.c's) and
 * from the CSMS's answers to them. Enum tables are the official schemas'
 * (ocpp-rpc's ocpp1_6.json / ocpp2_0_1.json), in their order.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ocpp_msg.h"
#include "ocpp_msg_util.h"

#define N_(a) (sizeof(a) / sizeof((a)[0]))

static const char *const observe__status16[] = {
    "Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing",
    "Reserved", "Unavailable", "Faulted",
};
static const enum ocpp_status observe__status16_map[] = {
    OCPP_ST_AVAILABLE, OCPP_ST_PREPARING, OCPP_ST_CHARGING, OCPP_ST_SUSPENDED_EVSE,
    OCPP_ST_SUSPENDED_EV, OCPP_ST_FINISHING, OCPP_ST_RESERVED, OCPP_ST_UNAVAILABLE,
    OCPP_ST_FAULTED,
};
static const char *const observe__status201[] = {
    "Available", "Occupied", "Reserved", "Unavailable", "Faulted",
};
static const enum ocpp_status observe__status201_map[] = {
    OCPP_ST_AVAILABLE, OCPP_ST_OCCUPIED, OCPP_ST_RESERVED, OCPP_ST_UNAVAILABLE,
    OCPP_ST_FAULTED,
};
static const char *const observe__event_type[] = { "Ended", "Started", "Updated" };
static const char *const observe__charging_state[] = {
    "Charging", "EVConnected", "SuspendedEV", "SuspendedEVSE", "Idle",
};
static const enum ocpp_status observe__charging_state_map[] = {
    OCPP_ST_CHARGING, OCPP_ST_PREPARING, OCPP_ST_SUSPENDED_EV, OCPP_ST_SUSPENDED_EVSE,
    OCPP_ST_UNKNOWN,
};
static const char *const observe__trigger_reason[] = {
    "Authorized", "CablePluggedIn", "ChargingRateChanged", "ChargingStateChanged",
    "Deauthorized", "EnergyLimitReached", "EVCommunicationLost", "EVConnectTimeout",
    "MeterValueClock", "MeterValuePeriodic", "TimeLimitReached", "Trigger", "UnlockCommand",
    "StopAuthorized", "EVDeparted", "EVDetected", "RemoteStop", "RemoteStart",
    "AbnormalCondition", "SignedDataReceived", "ResetCommand",
};
static const char *const observe__stopped_reason[] = {
    "DeAuthorized", "EmergencyStop", "EnergyLimitReached", "EVDisconnected", "GroundFault",
    "ImmediateReset", "Local", "LocalOutOfCredit", "MasterPass", "Other", "OvercurrentFault",
    "PowerLoss", "PowerQuality", "Reboot", "Remote", "SOCLimitReached", "StoppedByEV",
    "TimeLimitReached", "Timeout",
};

static int observe__id(const cJSON *obj, const char *name, int *out)
{
    long long id;
    int rc = ocpp_msg__int(obj, name, 0, 2147483647LL, &id);

    if (rc == 0)
        *out = (int)id;
    return rc;
}

/* 1.6 transactionId: an integer, kept as decimal text. */
static int observe__txid16(const cJSON *obj, char out[64])
{
    long long id;
    int rc = ocpp_msg__int(obj, "transactionId", -9007199254740992LL, 9007199254740992LL, &id);

    if (rc == 0)
        snprintf(out, 64, "%lld", id);
    return rc;
}

static int observe__status_notification(enum ocpp_version v, const cJSON *root,
                                        struct ocpp_observation *out)
{
    int st, rc;

    out->kind = OCPP_OBS_STATUS;
    if (v == OCPP_16) {
        if ((rc = ocpp_msg__need(observe__id(root, "connectorId", &out->connector))) < 0 ||
            (rc = ocpp_msg__need(ocpp_msg__enum(root, "status", observe__status16,
                                                N_(observe__status16), &st))) < 0)
            return rc;
        out->status = observe__status16_map[st];
    } else {
        if ((rc = ocpp_msg__need(observe__id(root, "evseId", &out->connector))) < 0 ||
            (rc = observe__id(root, "connectorId", &out->evse_connector)) < 0 ||
            (rc = ocpp_msg__need(ocpp_msg__enum(root, "connectorStatus", observe__status201,
                                                N_(observe__status201), &st))) < 0)
            return rc;
        out->status = observe__status201_map[st];
    }
    rc = ocpp_msg__time(root, "timestamp", &out->timestamp);
    return rc < 0 ? rc : 0;
}

/* What Start- and StopTransaction (1.6) share: the idTag, the energy register
 * named `register_key` (Wh, an integer), and the timestamp. */
static int observe__tx16_common(const cJSON *root, const char *register_key,
                                struct ocpp_observation *out)
{
    const char *tag;
    long long wh;
    int rc;

    if ((rc = ocpp_msg__str(root, "idTag", 20, &tag)) < 0)
        return rc;
    if (rc == 0)
        ocpp_msg__copy(out->id_tag, sizeof out->id_tag, tag);
    if ((rc = ocpp_msg__int(root, register_key, -9007199254740992LL, 9007199254740992LL,
                            &wh)) < 0)
        return rc;
    if (rc == 0 && ocpp_msg__sane(OCPP_MSG__Q_ENERGY, (double)wh))
        out->energy_wh = (double)wh;
    rc = ocpp_msg__time(root, "timestamp", &out->timestamp);
    return rc < 0 ? rc : 0;
}

static int observe__start16(const cJSON *root, struct ocpp_observation *out)
{
    int rc;

    out->kind = OCPP_OBS_TX_START;
    if ((rc = ocpp_msg__need(observe__id(root, "connectorId", &out->connector))) < 0)
        return rc;
    return observe__tx16_common(root, "meterStart", out);
}

static int observe__stop16(const cJSON *root, struct ocpp_observation *out)
{
    const cJSON *data;
    int rc;

    out->kind = OCPP_OBS_TX_STOP;
    if ((rc = ocpp_msg__need(observe__txid16(root, out->transaction_id))) < 0)
        return rc;
    if ((rc = ocpp_msg__child(root, "transactionData", cJSON_Array, &data)) < 0)
        return rc;
    if (rc == 0 && (rc = ocpp_msg__meter_values(OCPP_16, data, false, out)) < 0)
        return rc;
    /* meterStop is the register at the stop: it wins over transactionData. */
    return observe__tx16_common(root, "meterStop", out);
}

static int observe__meter_values_call(enum ocpp_version v, const cJSON *root,
                                      struct ocpp_observation *out)
{
    const cJSON *arr;
    int rc;

    out->kind = OCPP_OBS_METER;
    if ((rc = ocpp_msg__need(observe__id(root, v == OCPP_16 ? "connectorId" : "evseId",
                                         &out->connector))) < 0)
        return rc;
    if (v == OCPP_16 && (rc = observe__txid16(root, out->transaction_id)) < 0)
        return rc;
    if ((rc = ocpp_msg__need(ocpp_msg__child(root, "meterValue", cJSON_Array, &arr))) < 0)
        return rc;
    return ocpp_msg__meter_values(v, arr, true, out);
}

static int observe__transaction_event(const cJSON *root, struct ocpp_observation *out)
{
    static const enum ocpp_obs_kind kinds[] = { OCPP_OBS_TX_STOP, OCPP_OBS_TX_START,
                                                OCPP_OBS_TX_UPDATE };
    const cJSON *info, *evse, *token, *arr;
    const char *s;
    int event, state = -1, trigger = -1, reason = -1, rc;

    if ((rc = ocpp_msg__need(ocpp_msg__enum(root, "eventType", observe__event_type,
                                            N_(observe__event_type), &event))) < 0)
        return rc;
    out->kind = kinds[event];
    if ((rc = ocpp_msg__need(ocpp_msg__child(root, "transactionInfo", cJSON_Object, &info))) < 0 ||
        (rc = ocpp_msg__need(ocpp_msg__str(info, "transactionId", 36, &s))) < 0)
        return rc;
    ocpp_msg__copy(out->transaction_id, sizeof out->transaction_id, s);
    if ((rc = ocpp_msg__enum(info, "chargingState", observe__charging_state,
                             N_(observe__charging_state), &state)) < 0 ||
        (rc = ocpp_msg__enum(info, "stoppedReason", observe__stopped_reason,
                             N_(observe__stopped_reason), &reason)) < 0 ||
        (rc = ocpp_msg__enum(root, "triggerReason", observe__trigger_reason,
                             N_(observe__trigger_reason), &trigger)) < 0)
        return rc;
    if (state >= 0)
        out->status = observe__charging_state_map[state];
    if (out->kind == OCPP_OBS_TX_STOP) {
        bool gone = state == 4 || (trigger >= 0 && strcmp(observe__trigger_reason[trigger],
                                                          "EVDeparted") == 0) ||
                    (reason >= 0 && strcmp(observe__stopped_reason[reason],
                                           "EVDisconnected") == 0);
        out->status = gone ? OCPP_ST_AVAILABLE : OCPP_ST_FINISHING;
    }
    if ((rc = ocpp_msg__child(root, "evse", cJSON_Object, &evse)) < 0)
        return rc;
    if (rc == 0 && ((rc = ocpp_msg__need(observe__id(evse, "id", &out->connector))) < 0 ||
                    (rc = observe__id(evse, "connectorId", &out->evse_connector)) < 0))
        return rc;
    if ((rc = ocpp_msg__child(root, "idToken", cJSON_Object, &token)) < 0)
        return rc;
    if (rc == 0) {
        if ((rc = ocpp_msg__need(ocpp_msg__str(token, "idToken", 36, &s))) < 0)
            return rc;
        ocpp_msg__copy(out->id_tag, sizeof out->id_tag, s);
    }
    if ((rc = ocpp_msg__child(root, "meterValue", cJSON_Array, &arr)) < 0)
        return rc;
    if (rc == 0 && (rc = ocpp_msg__meter_values(OCPP_201, arr, false, out)) < 0)
        return rc;
    rc = ocpp_msg__time(root, "timestamp", &out->timestamp);
    return rc < 0 ? rc : 0;
}

static int observe__ev_needs(const cJSON *root, struct ocpp_observation *out)
{
    const cJSON *needs, *ac, *dc;
    long long n;
    int rc;

    out->kind = OCPP_OBS_EV_NEEDS;
    if ((rc = ocpp_msg__need(observe__id(root, "evseId", &out->connector))) < 0 ||
        (rc = ocpp_msg__need(ocpp_msg__child(root, "chargingNeeds", cJSON_Object, &needs))) < 0)
        return rc;
    if ((rc = ocpp_msg__time(needs, "departureTime", &out->ev_departure)) < 0)
        return rc;
    if ((rc = ocpp_msg__child(needs, "acChargingParameters", cJSON_Object, &ac)) < 0)
        return rc;
    if (rc == 0) {
        if ((rc = ocpp_msg__int(ac, "evMinCurrent", -2147483648LL, 2147483647LL, &n)) < 0)
            return rc;
        if (rc == 0 && ocpp_msg__sane(OCPP_MSG__Q_CURRENT, (double)n))
            out->ev_min_a = (double)n;
        if ((rc = ocpp_msg__int(ac, "evMaxCurrent", -2147483648LL, 2147483647LL, &n)) < 0)
            return rc;
        if (rc == 0 && ocpp_msg__sane(OCPP_MSG__Q_CURRENT, (double)n))
            out->ev_max_a = (double)n;
        if ((rc = ocpp_msg__int(ac, "energyAmount", -2147483648LL, 2147483647LL, &n)) < 0)
            return rc;
        if (rc == 0 && ocpp_msg__sane(OCPP_MSG__Q_ENERGY, (double)n))
            out->ev_energy_wh = (double)n;
    }
    /* DC currents are on the DC side: only the energy is of use here. */
    if ((rc = ocpp_msg__child(needs, "dcChargingParameters", cJSON_Object, &dc)) < 0)
        return rc;
    if (rc == 0 && isnan(out->ev_energy_wh)) {
        if ((rc = ocpp_msg__int(dc, "energyAmount", -2147483648LL, 2147483647LL, &n)) < 0)
            return rc;
        if (rc == 0 && ocpp_msg__sane(OCPP_MSG__Q_ENERGY, (double)n))
            out->ev_energy_wh = (double)n;
    }
    return 0;
}

static void observe__init(struct ocpp_observation *out)
{
    memset(out, 0, sizeof *out);
    out->kind = OCPP_OBS_NONE;
    out->connector = -1;
    out->status = OCPP_ST_UNKNOWN;
    out->current_a[0] = out->current_a[1] = out->current_a[2] = NAN;
    out->power_w = out->energy_wh = NAN;
    out->ev_min_a = out->ev_max_a = out->ev_energy_wh = NAN;
}

/* f: the frame frame_parse made of the text the payload is in, or NULL. */
static int observe__call(enum ocpp_version v, const char *action, const char *payload, size_t len,
                         const struct frame *f, struct ocpp_observation *out)
{
    static const char *const actions[] = {
        "BootNotification", "StatusNotification", "StartTransaction", "StopTransaction",
        "MeterValues", "TransactionEvent", "NotifyEVChargingNeeds",
    };
    cJSON *root;
    int a, rc;

    observe__init(out);
    if ((v != OCPP_16 && v != OCPP_201) || !action)
        return -EINVAL;
    a = ocpp_msg__lookup(action, actions, N_(actions));
    /* Start/StopTransaction are 1.6 only; the 2.0.1 ones are 2.0.1 only. */
    if (a < 0 || (v == OCPP_16 && a >= 5) || (v == OCPP_201 && (a == 2 || a == 3)))
        return 0;
    rc = f ? ocpp_msg__parse_frame(f, &root) : ocpp_msg__parse(payload, len, &root);
    if (rc < 0)
        return rc;
    switch (a) {
    case 0:
        out->kind = OCPP_OBS_BOOT;
        out->connector = 0;
        rc = 0;
        break;
    case 1: rc = observe__status_notification(v, root, out); break;
    case 2: rc = observe__start16(root, out); break;
    case 3: rc = observe__stop16(root, out); break;
    case 4: rc = observe__meter_values_call(v, root, out); break;
    case 5: rc = observe__transaction_event(root, out); break;
    default: rc = observe__ev_needs(root, out); break;
    }
    ocpp_msg__release(root);
    if (rc < 0) {
        observe__init(out);
        return rc;
    }
    return 0;
}

int ocpp_observe_call(enum ocpp_version v, const char *action, const char *payload,
                      size_t len, struct ocpp_observation *out)
{
    return observe__call(v, action, payload, len, NULL, out);
}

int ocpp_observe_frame(enum ocpp_version v, const struct frame *f, struct ocpp_observation *out)
{
    return observe__call(v, f->action, f->payload.ptr, f->payload.len, f, out);
}

/* ---- answers ---- */

/* idTagInfo (1.6) / idTokenInfo (2.0.1): status Accepted. */
static int observe__auth_status(const cJSON *root, const char *name, bool required,
                                bool *accepted)
{
    const cJSON *info;
    const char *s;
    int rc = ocpp_msg__child(root, name, cJSON_Object, &info);

    if (rc == OCPP_MSG__ABSENT && !required) {
        *accepted = true;
        return 0;
    }
    if ((rc = ocpp_msg__need(rc)) < 0 ||
        (rc = ocpp_msg__need(ocpp_msg__str(info, "status", 32, &s))) < 0)
        return rc;
    *accepted = strcmp(s, "Accepted") == 0;
    return 0;
}

int ocpp_observe_result(enum ocpp_version v, const char *action, const char *payload,
                        size_t len, struct ocpp_answer *out)
{
    static const char *const actions[] = {
        "BootNotification", "StartTransaction", "Authorize", "TransactionEvent",
    };
    static const char *const boot_status[] = { "Accepted", "Pending", "Rejected" };
    cJSON *root;
    long long interval;
    int a, st, rc;

    memset(out, 0, sizeof *out);
    out->interval_s = -1;
    if ((v != OCPP_16 && v != OCPP_201) || !action)
        return -EINVAL;
    a = ocpp_msg__lookup(action, actions, N_(actions));
    if (a < 0 || (v == OCPP_16 && a == 3) || (v == OCPP_201 && a == 1))
        return -ENOTSUP;
    if ((rc = ocpp_msg__parse(payload, len, &root)) < 0)
        return rc;
    switch (a) {
    case 0:
        if ((rc = ocpp_msg__need(ocpp_msg__enum(root, "status", boot_status,
                                                N_(boot_status), &st))) < 0 ||
            (rc = ocpp_msg__int(root, "interval", -2147483648LL, 2147483647LL,
                                &interval)) < 0)
            break;
        out->accepted = st == 0;
        if (rc == 0)
            out->interval_s = (int)interval;
        rc = 0;
        break;
    case 1:
        if ((rc = ocpp_msg__need(observe__txid16(root, out->transaction_id))) < 0)
            break;
        rc = observe__auth_status(root, "idTagInfo", true, &out->accepted);
        break;
    case 2:
        rc = observe__auth_status(root, v == OCPP_16 ? "idTagInfo" : "idTokenInfo", true,
                                  &out->accepted);
        break;
    default:
        rc = observe__auth_status(root, "idTokenInfo", false, &out->accepted);
        break;
    }
    ocpp_msg__release(root);
    if (rc < 0) {
        memset(out, 0, sizeof *out);
        out->interval_s = -1;
    }
    return rc;
}
