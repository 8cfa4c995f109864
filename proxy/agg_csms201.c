/* Aggregate mode, a 2.0.1 site: the CSMS's CALLs. A CALL about one EVSE goes
 * to the charger that owns it (in the charger's version, agg_down.c); one
 * about the whole station goes to every charger or is answered by the
 * gateway: its device model (agg_dm.c), reset, triggers of its own
 * messages, the site's composite schedule, the local list. What the site
 * cannot do is answered NotSupported, not pretended. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg_int.h"
#include "log.h"
#include "session.h"
#include "store.h"

/* 2.0.1 CALLs a CSMS may send that the site does not carry: firmware,
 * logs, certificates, monitoring, displays, tariffs, network profiles. */
static const char *const agg__unsupported[] = {
    "CertificateSigned", "ClearDisplayMessage", "ClearVariableMonitoring", "CostUpdated",
    "CustomerInformation", "DeleteCertificate", "GetChargingProfiles", "GetDisplayMessages",
    "GetInstalledCertificateIds", "GetLog", "GetMonitoringReport", "InstallCertificate",
    "PublishFirmware", "SetDisplayMessage", "SetMonitoringBase", "SetMonitoringLevel",
    "SetNetworkProfile", "SetVariableMonitoring", "UnpublishFirmware", "UpdateFirmware",
};

static bool agg__is(const struct frame *f, const char *action)
{
    return strcmp(f->action, action) == 0;
}

static int agg__int(const cJSON *o, const char *name, int dflt)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(it) ? it->valueint : dflt;
}

/* The member that names the EVSE in this CALL, NULL when absent. */
static cJSON *agg__evse_of(const struct frame *f, cJSON *payload)
{
    if (agg__is(f, "ChangeAvailability") || agg__is(f, "TriggerMessage"))
        return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(payload, "evse"), "id");
    if (agg__is(f, "ClearChargingProfile"))
        return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(payload, "chargingProfileCriteria"),
                                                "evseId");
    return cJSON_GetObjectItemCaseSensitive(payload, "evseId");
}

/* ---- the station itself ---- */

/* The site's cap as its composite schedule on EVSE 0. */
static void agg__composite201(struct aggregate *a, const struct frame *f, const cJSON *payload)
{
    const cJSON *unit = cJSON_GetObjectItemCaseSensitive(payload, "chargingRateUnit");
    bool amps = cJSON_IsString(unit) && strcmp(unit->valuestring, "A") == 0;
    char now[32];
    agg__now(now);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "Accepted");
    cJSON *sched = cJSON_AddObjectToObject(o, "schedule");
    cJSON_AddNumberToObject(sched, "evseId", 0);
    cJSON_AddNumberToObject(sched, "duration", agg__int(payload, "duration", 0));
    cJSON_AddStringToObject(sched, "scheduleStart", now);
    cJSON_AddStringToObject(sched, "chargingRateUnit", amps ? "A" : "W");
    cJSON *periods = cJSON_AddArrayToObject(sched, "chargingSchedulePeriod");
    cJSON *period = cJSON_CreateObject();
    cJSON_AddNumberToObject(period, "startPeriod", 0);
    cJSON_AddNumberToObject(period, "limit", agg__site_limit(a, amps));
    cJSON_AddItemToArray(periods, period);
    agg__reply(a, f->id, o);
    cJSON_Delete(o);
}

/* TriggerMessage for what the station itself sends; false: an EVSE's. */
static bool agg__trigger201(struct aggregate *a, const struct frame *f, const cJSON *payload)
{
    const cJSON *what = cJSON_GetObjectItemCaseSensitive(payload, "requestedMessage");
    const char *m = cJSON_IsString(what) ? what->valuestring : "";
    int evse = agg__int(cJSON_GetObjectItemCaseSensitive(payload, "evse"), "id", 0);
    bool evse_message = strcmp(m, "MeterValues") == 0 || strcmp(m, "StatusNotification") == 0 ||
                        strcmp(m, "TransactionEvent") == 0;
    if (evse > 0 && evse_message)
        return false;
    if (strcmp(m, "BootNotification") == 0) {
        /* F06: a station that is accepted already says so. */
        agg__reply_status(a, f->id, a->booted ? "Rejected" : "Accepted");
        a->boot_reason = "Triggered";
        if (!a->booted)
            agg__send_boot(a);
    } else if (strcmp(m, "Heartbeat") == 0) {
        agg__reply_status(a, f->id, "Accepted");
        agg__send_heartbeat(a);
    } else if (strcmp(m, "StatusNotification") == 0) {
        agg__reply_status(a, f->id, "Accepted");
        agg__emit_statuses(a);
    } else if (strcmp(m, "MeterValues") == 0) {
        agg__reply_status(a, f->id, "Accepted");
        agg__emit_meter(a);
    } else if (strcmp(m, "FirmwareStatusNotification") == 0 || strcmp(m, "LogStatusNotification") == 0) {
        agg__reply_status(a, f->id, "Accepted");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "Idle");
        agg__emit(a, m, o);
        cJSON_Delete(o);
    } else {
        /* TransactionEvent needs an EVSE here; certificates are the chargers'. */
        agg__reply_status(a, f->id, strcmp(m, "TransactionEvent") == 0 ? "Rejected" : "NotImplemented");
    }
    return true;
}

static void agg__transaction_status(struct aggregate *a, const struct frame *f, const cJSON *payload)
{
    const cJSON *tx = cJSON_GetObjectItemCaseSensitive(payload, "transactionId");
    cJSON *o = cJSON_CreateObject();
    if (cJSON_IsString(tx))
        cJSON_AddBoolToObject(o, "ongoingIndicator",
                              agg_btx_by_id201(&a->bridged, NULL, tx->valuestring) != NULL);
    cJSON_AddBoolToObject(o, "messagesInQueue", a->site->offline.backlog);
    agg__reply(a, f->id, o);
    cJSON_Delete(o);
}

static bool agg__station_call(struct aggregate *a, const struct frame *f, const cJSON *payload)
{
    if (agg__device_model(a, f, payload))
        return true;
    if (agg__is(f, "Reset") && agg__int(payload, "evseId", 0) == 0) {
        agg__reset(a, f, payload, "Immediate");
    } else if (agg__is(f, "GetLocalListVersion")) {
        int version = 0;
        if (a->proxy->store)
            store_local_list_version(a->proxy->store, a->site->id, &version);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "versionNumber", version);
        agg__reply(a, f->id, o);
        cJSON_Delete(o);
    } else if (agg__is(f, "SendLocalList") || agg__is(f, "ClearCache") || agg__is(f, "DataTransfer")) {
        agg__site_call(a, f, payload); /* the same answers as in 1.6 */
    } else if (agg__is(f, "GetTransactionStatus")) {
        agg__transaction_status(a, f, payload);
    } else if (agg__is(f, "GetCompositeSchedule") && agg__int(payload, "evseId", -1) == 0) {
        agg__composite201(a, f, payload);
    } else if (agg__is(f, "TriggerMessage")) {
        return agg__trigger201(a, f, payload);
    } else {
        return false;
    }
    return true;
}

/* ---- one EVSE's charger ---- */

/* A CALL that names its charger by a transaction or a reservation. */
static void agg__route_by_id(struct aggregate *a, const struct frame *f, const cJSON *payload)
{
    struct session *c = NULL;
    if (agg__is(f, "RequestStopTransaction")) {
        const cJSON *tx = cJSON_GetObjectItemCaseSensitive(payload, "transactionId");
        const struct agg_btx *x = cJSON_IsString(tx) ? agg_btx_by_id201(&a->bridged, NULL, tx->valuestring) : NULL;
        c = x ? proxy__find(a->proxy, x->charger) : NULL;
    } else {
        char key[32];
        snprintf(key, sizeof(key), "%d", agg__int(payload, "reservationId", -1));
        const struct agg_ref *ref = agg__ref_get(a->resvs, key);
        c = ref ? proxy__find(a->proxy, ref->charger) : NULL;
    }
    if (!c)
        agg__reply_status(a, f->id, "Rejected");
    else
        agg__to_charger(a, f, c, payload);
}

/* What a CALL about no EVSE (or EVSE 0) means for the site. */
static bool agg__whole_site(struct aggregate *a, const struct frame *f, cJSON *payload)
{
    if (agg__is(f, "ChangeAvailability") || agg__is(f, "ClearChargingProfile")) {
        agg__fan_out(a, f, payload);
    } else if (agg__is(f, "SetChargingProfile")) {
        const cJSON *purpose = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(payload,
                                                                "chargingProfile"), "chargingProfilePurpose");
        /* The CSMS's own cap was taken (smart_charging.c); a TxDefaultProfile
         * is every charger's; a TxProfile needs its EVSE. */
        if (cJSON_IsString(purpose) && strcmp(purpose->valuestring, "TxDefaultProfile") == 0)
            agg__fan_out(a, f, payload);
        else
            agg__reply_status(a, f->id, "Rejected");
    } else if (agg__is(f, "RequestStartTransaction")) {
        cJSON *free_one = agg__free_connector(a);
        if (!free_one) {
            agg__reply_status(a, f->id, "Rejected");
            return true;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(payload, "evseId");
        cJSON_AddItemToObject(payload, "evseId", free_one);
        return false;
    } else if (agg__is(f, "UnlockConnector")) {
        agg__reply_status(a, f->id, "UnknownConnector");
    } else {
        agg__reply_status(a, f->id, "Rejected"); /* ReserveNow: this site reserves EVSEs */
    }
    return true;
}

static void agg__route201(struct aggregate *a, const struct frame *f, cJSON *payload)
{
    if (agg__is(f, "RequestStopTransaction") || agg__is(f, "CancelReservation")) {
        agg__route_by_id(a, f, payload);
        return;
    }
    cJSON *evse = agg__evse_of(f, payload);
    if ((!cJSON_IsNumber(evse) || evse->valueint == 0) && agg__whole_site(a, f, payload))
        return;
    evse = agg__evse_of(f, payload);
    int number = cJSON_IsNumber(evse) ? evse->valueint : -1;
    const struct agg_slot *slot = agg_map_slot(&a->map, number);
    if (!slot) {
        if (agg__is(f, "UnlockConnector"))
            agg__reply_status(a, f->id, "UnknownConnector");
        else
            agg__refuse(a, f->id, "PropertyConstraintViolation", "no such EVSE");
        return;
    }
    struct session *c = proxy__find(a->proxy, slot->charger);
    if (agg__is(f, "Reset") && c && c->version == OCPP_16) {
        log_info("proxy", "CSMS asked to reset one EVSE of a 1.6 charger, refused site=%s charger=%s",
                 a->site->id, c->id);
        agg__reply_status(a, f->id, "Rejected"); /* it would reset all of the charger's */
        return;
    }
    cJSON_SetNumberValue(evse, slot->connector);
    if (agg__is(f, "ReserveNow") && c) {
        char key[32];
        snprintf(key, sizeof(key), "%d", agg__int(payload, "id", -1));
        agg__ref_put(a->resvs, &a->next_resv, key, c->id, slot->connector);
    }
    agg__to_charger(a, f, c, payload);
}

static const char *const agg__routed201[] = {
    "RequestStartTransaction", "RequestStopTransaction", "UnlockConnector", "ChangeAvailability",
    "ReserveNow", "CancelReservation", "TriggerMessage", "SetChargingProfile",
    "ClearChargingProfile", "GetCompositeSchedule", "Reset",
};

void agg__csms201(struct aggregate *a, const struct frame *f, cJSON *payload)
{
    if (agg__station_call(a, f, payload))
        return;
    for (size_t i = 0; i < sizeof(agg__routed201) / sizeof(agg__routed201[0]); i++) {
        if (agg__is(f, agg__routed201[i])) {
            agg__route201(a, f, payload);
            return;
        }
    }
    bool known = false;
    for (size_t i = 0; i < sizeof(agg__unsupported) / sizeof(agg__unsupported[0]) && !known; i++)
        known = agg__is(f, agg__unsupported[i]);
    log_info("proxy", "CSMS's %s not carried by the site site=%s", f->action, a->site->id);
    agg__refuse(a, f->id, known ? "NotSupported" : "NotImplemented", "not supported by the site");
}
