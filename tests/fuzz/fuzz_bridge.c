/* libFuzzer target for the 1.6 <-> 2.0.1 payload mapping of aggregate mode
 * (proxy/bridge*.c): whatever a charger or a CSMS sends, each mapping must
 * return one of bridge.h's documented codes and, on success, a JSON object
 * that prints and parses back.
 *
 * Input: byte 0 picks the direction (from, to), byte 1 the action, byte 2
 * the mapping (the row's CALL or answer mapping, or one of the transaction
 * mappings chosen by the caller in aggregate mode), bytes 3..10 the state
 * the caller would give (struct bridge_ctx); the rest is the payload. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bridge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz__actions[] = {
    "RequestStartTransaction", "RequestStopTransaction", "RemoteStartTransaction",
    "RemoteStopTransaction", "UnlockConnector", "ChangeAvailability", "TriggerMessage",
    "SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule", "ReserveNow",
    "CancelReservation", "Reset", "Authorize", "StatusNotification", "MeterValues",
    "DataTransfer", "TransactionEvent", "NotifyEVChargingNeeds", "ReservationStatusUpdate",
};

/* The mappings aggregate mode picks itself, by the transaction's state. */
static const bridge_fn fuzz__tx_maps[] = {
    bridge_start_16_201, bridge_meter_tx_16_201, bridge_stop_16_201, bridge_charging_state_201,
    bridge_event_answer_16, bridge_event_start_201_16, bridge_event_meter_201_16,
    bridge_event_stop_201_16, bridge_event_answer_201,
};

#define FUZZ__N(a) (sizeof(a) / sizeof((a)[0]))

static int fuzz__code_ok(int rc)
{
    return rc == 0 || rc == -EINVAL || rc == -EPROTO || rc == -ERANGE || rc == -ENOTSUP ||
           rc == -ENOENT || rc == -ENODATA || rc == -ENOMEM;
}

/* A successful mapping is an object that prints and parses back. */
static void fuzz__check_out(const cJSON *out)
{
    if (!cJSON_IsObject(out))
        abort();
    char *text = cJSON_PrintUnformatted(out);
    if (!text)
        return; /* out of memory */
    cJSON *again = cJSON_Parse(text);
    if (!cJSON_IsObject(again))
        abort();
    cJSON_Delete(again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum ocpp_version dirs[3][2] = {
        { OCPP_16, OCPP_201 }, { OCPP_201, OCPP_16 }, { OCPP_201, OCPP_201 },
    };
    if (size < 11)
        return 0;
    const enum ocpp_version *dir = dirs[data[0] % 3];
    const char *action = fuzz__actions[data[1] % FUZZ__N(fuzz__actions)];
    unsigned pick = data[2] % (2 + FUZZ__N(fuzz__tx_maps));
    char tx201[BRIDGE_TX_MAX] = "0b6d1a2c-tx";
    struct bridge_ctx ctx = {
        .connector = data[3] % 8,
        .tx16 = data[4] & 1 ? (int64_t)data[5] - 128 : 0,
        .tx201 = data[4] & 2 ? tx201 : NULL,
        .seq_no = data[6],
        .remote_start_id = data[4] & 4 ? data[7] : -1,
        .token_type = data[4] & 8 ? "Central" : "ISO14443",
        .charging_state = data[4] & 16 ? "Charging" : NULL,
        .occupied_as = data[4] & 32 ? "Charging" : NULL,
        .duration = data[8] * 60,
        .meter_wh = data[4] & 64 ? data[9] * 1000.0 : NAN,
        .now = 1795000000 + data[10],
    };
    cJSON *in = cJSON_ParseWithLength((const char *)data + 11, size - 11);
    if (!in)
        return 0;
    bridge_fn map = NULL;
    if (pick >= 2) {
        map = fuzz__tx_maps[pick - 2];
    } else {
        const struct bridge_rule *rule = bridge_rule(dir[0], dir[1], action);
        map = rule ? (pick == 0 ? rule->call : rule->answer) : NULL;
    }
    cJSON *out = NULL;
    if (map) {
        int rc = map(in, &ctx, &out);
        if (!fuzz__code_ok(rc))
            abort();
        if (rc == 0)
            fuzz__check_out(out);
    }
    cJSON_Delete(out);
    cJSON_Delete(in);
    return 0;
}
