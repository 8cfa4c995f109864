/* Internal to proxy/: OCPP 1.6J <-> 2.0.1 payload mapping, for aggregate mode
 * when the site and a charger behind it speak different versions (and EVSE
 * renumbering when both speak 2.0.1).
 *
 * Pure functions: no I/O, no clock reads, no globals, no logging. Every
 * mapping takes the payload it maps (a cJSON object, as received) and what
 * the gateway's state knows (struct bridge_ctx, filled by the caller: the
 * connector or EVSE to write, the transaction ids of the other side, the
 * seqNo of the event, now), and makes a new payload (*out, the caller's to
 * cJSON_Delete). The state itself (minted transaction ids, seqNo, pending
 * remote starts) is the caller's: agg_btx.c.
 *
 * What is read is checked against the schema of its version; what is
 * written passes the schema of the other. Returns 0, or:
 *   -EINVAL   a required field is missing, or the payload is not an object
 *   -EPROTO   a field is there but of the wrong type, outside its enum or
 *             too long for its own version
 *   -ERANGE   valid, but a value the other version cannot carry (a 2.0.1
 *             idToken of more than 20 characters toward a 1.6 peer, a 1.6
 *             profile on a connector that is not an EVSE's, ...)
 *   -ENOTSUP  valid, but the other version has no such thing (a 2.0.1
 *             ChargingStationExternalConstraints profile toward 1.6, a
 *             TriggerMessage for a certificate)
 *   -ENOENT   a transaction id the mapping needs is not known (ctx)
 *   -ENODATA  nothing is left to send (meter values none of which the other
 *             version can carry)
 *   -ENOMEM
 * Meter values are mapped sample by sample: a sample the other version
 * cannot carry (a measurand or unit it lacks, signed data, a 1.6 value that
 * is not a number) is left out, never the whole message.
 */
#ifndef SITEGATE_BRIDGE_H
#define SITEGATE_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "frame.h" /* enum ocpp_version */

#define BRIDGE_TX_MAX 37   /* a 2.0.1 transactionId: 36 characters */
#define BRIDGE_TAG16_MAX 20 /* a 1.6 idTag */

struct bridge_ctx {
    int connector;           /* the connector / EVSE id to write: the site's number
                                toward the site, the charger's own toward a charger;
                                0 the whole charge point */
    int64_t tx16;            /* the 1.6 transactionId of the other side; 0 none */
    const char *tx201;       /* the 2.0.1 transactionId of the other side; NULL none */
    int seq_no;              /* 2.0.1 TransactionEvent seqNo */
    int remote_start_id;     /* -1 none (TransactionEvent Started: remoteStartId,
                                triggerReason RemoteStart; RequestStartTransaction) */
    const char *token_type;  /* IdTokenEnumType given to 1.6 idTags ("ISO14443", ...) */
    const char *charging_state; /* 2.0.1 chargingState to report; NULL none */
    const char *occupied_as; /* the 1.6 status a 2.0.1 "Occupied" becomes; NULL Preparing */
    int duration;            /* GetCompositeSchedule: the duration asked, s */
    double meter_wh;         /* the last energy register known, Wh; NAN none
                                (meterStart/meterStop when a 2.0.1 event has none) */
    time_t now;              /* timestamps the source does not give */
};

/* A mapping: in (one version's payload) to *out (the other's). */
typedef int (*bridge_fn)(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);

/* One row of the mapping table: a CALL of version from becomes out_action in
 * version to (by call), and its answer (in version to) is mapped back by
 * answer. Rows exist for the 1:1 mappings; a 1.6 charger's transaction
 * messages and a 2.0.1 charger's TransactionEvent depend on the transaction's
 * state and are chosen by the caller among the functions below. */
struct bridge_rule {
    enum ocpp_version from, to;
    const char *action, *out_action;
    bridge_fn call, answer;
};

/* The row of a CALL, or NULL when it has no mapping. */
const struct bridge_rule *bridge_rule(enum ocpp_version from, enum ocpp_version to,
                                      const char *action);

/* The CALLERROR code of version to that stands for a code of the other
 * (FormationViolation <-> FormatViolation, ...); GenericError for unknown. */
const char *bridge_error_code(enum ocpp_version to, const char *code);

/* ---- a 1.6 charger behind a 2.0.1 site (bridge_up.c) ---- */

/* StartTransaction -> TransactionEvent Started (ctx: connector, tx201,
 * seq_no, remote_start_id, token_type, charging_state). */
int bridge_start_16_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);
/* MeterValues of a transaction -> TransactionEvent Updated. */
int bridge_meter_tx_16_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);
/* StopTransaction -> TransactionEvent Ended. */
int bridge_stop_16_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);
/* A change of charging state -> TransactionEvent Updated ChargingStateChanged
 * (in unused; ctx: tx201, seq_no, charging_state, now). */
int bridge_charging_state_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);
/* TransactionEvent answer -> StartTransaction.conf (ctx->tx16: the id the
 * charger gets) or StopTransaction.conf (ctx->tx16 0). */
int bridge_event_answer_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);

/* ---- a 2.0.1 charger behind a 1.6 site (bridge_up.c) ---- */

/* What the gateway reads of a 2.0.1 TransactionEvent to choose a mapping. */
struct bridge_event {
    enum bridge_event_type { BRIDGE_STARTED, BRIDGE_UPDATED, BRIDGE_ENDED } type;
    const char *tx_id;          /* transactionInfo.transactionId (points into in) */
    const char *charging_state; /* transactionInfo.chargingState; NULL absent */
    int evse;                   /* evse.id; -1 absent */
    bool id_token;              /* an idToken is there */
};
/* Checks the members read (-EINVAL, -EPROTO) and fills *out. */
int bridge_event_read(const cJSON *in, struct bridge_event *out);

/* TransactionEvent (with an idToken) -> StartTransaction (ctx: connector,
 * meter_wh). */
int bridge_event_start_201_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);
/* TransactionEvent meter values -> MeterValues (ctx: connector, tx16). */
int bridge_event_meter_201_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);
/* TransactionEvent Ended -> StopTransaction (ctx: tx16, meter_wh). */
int bridge_event_stop_201_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);
/* Start/StopTransaction.conf -> TransactionEventResponse. */
int bridge_event_answer_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);

/* ---- values (bridge_values.c) ---- */

/* The 2.0.1 chargingState of a 1.6 status (Charging, SuspendedEV,
 * SuspendedEVSE; Preparing and Finishing: EVConnected), NULL for others. */
const char *bridge_charging_state(const char *status16);
/* The 1.6 status a 2.0.1 chargingState shows during a transaction (started:
 * the 1.6 StartTransaction went up), NULL for none. */
const char *bridge_state_status16(const char *charging_state, bool started);
/* Whether a 1.6 status belongs to a transaction's course (Charging,
 * SuspendedEV, SuspendedEVSE). */
bool bridge_status_in_tx(const char *status16);
/* The energy register (Wh) in a meterValue[] of either version, the last
 * one; NAN none. */
double bridge_energy_wh(enum ocpp_version v, const cJSON *meter_values);
/* 2.0.1 StatusNotification connectorStatus of a 1.6 status, NULL unknown. */
const char *bridge_status_201(const char *status16);

#endif
