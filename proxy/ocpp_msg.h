/* What the gateway reads from and writes into OCPP payloads, 1.6J and 2.0.1.
 *
 * Pure functions: no I/O, no clock reads (time is an argument, UTC seconds),
 * no logging, and no globals but the scratch arena payloads are parsed into
 * (json_tree.c), which makes them the loop thread's. Payloads are the raw
 * JSON text of a frame's payload span (frame.h): not NUL-terminated, nothing
 * past len is read.
 *
 * Parsers return 0, or a negative errno-style code:
 *   -EINVAL    not JSON, not an object, or a field the answer needs is missing
 *   -EPROTO    a field that is read is there but violates the schema: wrong
 *              type, a value outside its enum, a string longer than its
 *              maxLength, a malformed date-time, or a rule of the spec the
 *              gateway relies on (an id < 0, a 1.6 limit not a multiple of 0.1)
 *   -EMSGSIZE  payload longer than OCPP_MSG_PAYLOAD_MAX
 *   -ENOMEM    out of memory
 * Fields nobody reads are not validated: this is not a schema validator.
 * JSON syntax is frame_parse's, strict RFC 8259 (frame_json_valid): a
 * payload of a frame that frame_parse accepted always passes. On an error
 * *out is still initialised to its "unknown" values.
 *
 * Writers write compact JSON, NUL-terminated, and return its length (without
 * the NUL), or -ENOSPC when it and the NUL do not fit in cap bytes (nothing is
 * written past cap; buf is then "" if cap > 0), or -EINVAL for input the peer
 * would refuse. Implementation: ocpp_msg.c (shared helpers, ocpp_msg_util.h),
 * ocpp_observe.c (relayed traffic), ocpp_meter.c (its meter values),
 * ocpp_profile.c (profiles and replies), ocpp_caps.c (capabilities).
 */
#ifndef SITEGATE_OCPP_MSG_H
#define SITEGATE_OCPP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "frame.h" /* enum ocpp_version */

#define OCPP_MSG_PAYLOAD_MAX ((size_t)1 << 20) /* 1 MiB */

/* ---- Reading relayed traffic (charger -> CSMS CALLs and their results) ---- */

enum ocpp_status {
    OCPP_ST_UNKNOWN = 0, OCPP_ST_AVAILABLE, OCPP_ST_PREPARING, OCPP_ST_CHARGING,
    OCPP_ST_SUSPENDED_EV, OCPP_ST_SUSPENDED_EVSE, OCPP_ST_FINISHING, OCPP_ST_RESERVED,
    OCPP_ST_UNAVAILABLE, OCPP_ST_FAULTED,
    OCPP_ST_OCCUPIED /* 2.0.1 connectorStatus */
};

enum ocpp_obs_kind {
    OCPP_OBS_NONE = 0, OCPP_OBS_BOOT, OCPP_OBS_STATUS, OCPP_OBS_METER,
    OCPP_OBS_TX_START, OCPP_OBS_TX_UPDATE, OCPP_OBS_TX_STOP, OCPP_OBS_EV_NEEDS
};

struct ocpp_observation {
    enum ocpp_obs_kind kind;
    int connector;           /* 1.6 connectorId; 2.0.1 evseId / evse.id; 0 = the whole
                                charger; -1 unknown (1.6 StopTransaction, 2.0.1
                                TransactionEvent without evse) */
    int evse_connector;      /* 2.0.1 only: connectorId within the EVSE
                                (StatusNotification, evse.connectorId); 0 unknown */
    enum ocpp_status status; /* 1.6/2.0.1 StatusNotification status. TransactionEvent:
                                chargingState Charging, SuspendedEV, SuspendedEVSE map
                                to their own; EVConnected -> PREPARING; Idle -> UNKNOWN.
                                eventType Ended overrides: AVAILABLE when the EV is gone
                                (chargingState Idle, triggerReason EVDeparted or
                                stoppedReason EVDisconnected), else FINISHING (1.6's
                                "transaction over, EV still plugged"). Start/Stop-
                                Transaction and MeterValues leave UNKNOWN. */
    double current_a[3];     /* latest Current.Import per phase L1..L3 (L1-N.. too), A;
                                NAN unknown. An unphased current goes to [0] only when
                                its meterValue has no phased current. */
    double power_w;          /* latest Power.Active.Import, W; an unphased sample is the
                                total, else the sum of the phases of one meterValue */
    double energy_wh;        /* Energy.Active.Import.Register, Wh (1.6 Start/Stop:
                                meterStart / meterStop); NAN unknown */
    char transaction_id[64]; /* 1.6 transactionId as decimal text; 2.0.1
                                transactionInfo.transactionId; "" unknown */
    char id_tag[64];         /* 1.6 idTag; 2.0.1 idToken.idToken; "" unknown */
    double ev_min_a, ev_max_a; /* NotifyEVChargingNeeds acChargingParameters; NAN */
    double ev_energy_wh;     /* energyAmount (AC or DC parameters); NAN */
    time_t ev_departure;     /* chargingNeeds.departureTime; 0 unknown */
    time_t timestamp;        /* the message's own time: Status/Start/Stop timestamp,
                                TransactionEvent timestamp, the last meterValue's
                                timestamp in MeterValues; 0 unknown */
};

/* Reads what the balancer needs from a charger's CALL: 1.6 BootNotification,
 * StatusNotification, StartTransaction, StopTransaction, MeterValues; 2.0.1
 * BootNotification, StatusNotification, TransactionEvent, MeterValues,
 * NotifyEVChargingNeeds. Returns 0 with kind OCPP_OBS_NONE for other actions.
 * Meter values: the last sample of each kind wins (array order); a value that
 * is not finite, in a unit it does not understand, or absurd (|current| >
 * 10 kA, |power| > 10 MW, energy < 0 or > 1 TWh) is ignored, not an error;
 * 1.6 values are decimal strings (SignedData samples are skipped). */
int ocpp_observe_call(enum ocpp_version v, const char *action, const char *payload,
                      size_t len, struct ocpp_observation *out);

/* The same for a CALL frame_parse accepted, whose payload it does not
 * validate a second time: the relay's path. */
int ocpp_observe_frame(enum ocpp_version v, const struct frame *f, struct ocpp_observation *out);

struct ocpp_answer {
    bool accepted;           /* status / idTagInfo.status / idTokenInfo.status Accepted */
    char transaction_id[64]; /* 1.6 StartTransaction.conf transactionId; else "" */
    int interval_s;          /* BootNotification interval; -1 otherwise */
};

/* Reads a CSMS answer to a charger's CALL: BootNotification (status, interval),
 * 1.6 StartTransaction (transactionId, idTagInfo.status), Authorize
 * (idTagInfo / idTokenInfo status), 2.0.1 TransactionEvent (idTokenInfo
 * absent counts as accepted). -ENOTSUP for any other action (nothing read). */
int ocpp_observe_result(enum ocpp_version v, const char *action, const char *payload,
                        size_t len, struct ocpp_answer *out);

/* ---- Charging profiles ---- */

enum ocpp_purpose {
    OCPP_PURPOSE_CHARGER_MAX, /* 1.6 ChargePointMaxProfile / 2.0.1 ChargingStationMaxProfile */
    OCPP_PURPOSE_TX_DEFAULT,
    OCPP_PURPOSE_TX,
    OCPP_PURPOSE_EXTERNAL     /* 2.0.1 ChargingStationExternalConstraints only */
};

struct ocpp_limit_profile {
    int connector;       /* 0 = the charger as a whole (1.6 connectorId / 2.0.1 evseId);
                            CHARGER_MAX and EXTERNAL must be 0 */
    int profile_id;      /* also the 2.0.1 chargingSchedule id */
    int stack_level;     /* >= 0 */
    enum ocpp_purpose purpose;
    char unit;           /* 'A' or 'W' */
    double limit;        /* >= 0; written floored to 0.1 (7.35 -> 7.3), both versions */
    int phases;          /* numberPhases 1..3; 0 = omit */
    time_t start;        /* startSchedule (chargingProfileKind Absolute), UTC */
    time_t valid_to;     /* 0 = omit; else validTo */
    int duration_s;      /* 0 = omit; else chargingSchedule.duration */
    char transaction_id[64]; /* TX purpose only, "" = omit; 1.6: decimal integer text;
                              * 2.0.1: up to 36 bytes of UTF-8 */
};

/* SetChargingProfile payload: 1.6 {connectorId, csChargingProfiles{...}};
 * 2.0.1 {evseId, chargingProfile{id, ..., chargingSchedule:[{id, ...}]}}.
 * One period, startPeriod 0, kind Absolute. -EINVAL for a profile the schema
 * or spec forbids (EXTERNAL in 1.6, CHARGER_MAX on a connector, a year outside
 * 1970..9999, a limit < 0 or absurd, ...). */
int ocpp_write_set_profile(enum ocpp_version v, const struct ocpp_limit_profile *p,
                           char *buf, size_t cap);

/* ClearChargingProfile for one profile id: 1.6 {"id":N}; 2.0.1 {"chargingProfileId":N}. */
int ocpp_write_clear_profile(enum ocpp_version v, int profile_id, char *buf, size_t cap);

enum ocpp_reply {
    OCPP_REPLY_ACCEPTED, OCPP_REPLY_REJECTED, OCPP_REPLY_NOT_SUPPORTED,
    OCPP_REPLY_UNKNOWN /* ClearChargingProfile "Unknown": no such profile */
};

/* SetChargingProfile / ClearChargingProfile response: {"status": ...}, either
 * version. *out is OCPP_REPLY_REJECTED on an error (a charger that answers
 * nonsense is not following). */
int ocpp_parse_reply_status(const char *payload, size_t len, enum ocpp_reply *out);

struct ocpp_csms_profile {
    int connector; int profile_id; int stack_level; enum ocpp_purpose purpose;
    char unit;           /* 'A' or 'W' */
    double limit_now;    /* the limit in force at now; NAN when none is (see below) */
    int phases;          /* numberPhases of that period; 0 absent */
    char transaction_id[64];
    time_t valid_from, valid_to; /* 0 unset */
};

/* A CSMS's SetChargingProfile: what it asks, and the limit in force at now.
 * Absolute (with startSchedule): the period with the latest startPeriod <=
 * now - startSchedule. Recurring Daily/Weekly (with startSchedule): the same,
 * on the time elapsed since the latest recurrence. Relative, or without
 * startSchedule: the first period (the start of the transaction is not known
 * here). limit_now is NAN before the schedule starts, after its duration, or
 * outside validFrom..validTo: callers keep the payload and parse it again at a
 * later now to follow a schedule. 2.0.1: only the first chargingSchedule. */
int ocpp_parse_set_profile(enum ocpp_version v, const char *payload, size_t len,
                           time_t now, struct ocpp_csms_profile *out);

/* A CSMS's ClearChargingProfile filters; -1 / has_purpose false where absent. */
struct ocpp_clear_filter {
    int profile_id; int connector; int stack_level;
    bool has_purpose; enum ocpp_purpose purpose;
};
int ocpp_parse_clear_profile(enum ocpp_version v, const char *payload, size_t len,
                             struct ocpp_clear_filter *out);

/* {"status":"<status>"}: the gateway's own answer to a CSMS profile request.
 * Note ClearChargingProfile.conf allows only "Accepted" / "Unknown". */
int ocpp_write_status_reply(const char *status, char *buf, size_t cap);

/* ---- Smart-charging capabilities ---- */

struct ocpp_caps {
    int smart_charging;  /* 1 yes, 0 no, -1 unknown. 1.6: "SmartCharging" in
                            SupportedFeatureProfiles. 2.0.1: SmartChargingCtrlr
                            Available / Enabled: 0 if either is false, 1 if one is
                            true and neither false */
    int max_stack_level; /* 1.6 ChargeProfileMaxStackLevel; 2.0.1
                            SmartChargingCtrlr.ProfileStackLevel; -1 unknown */
    bool unit_a, unit_w; /* 1.6 ChargingScheduleAllowedChargingRateUnit "Current,Power";
                            2.0.1 SmartChargingCtrlr.RateUnit "A,W"; both false unknown */
    int max_profiles;    /* 1.6 MaxChargingProfilesInstalled; -1 unknown. Always -1 in
                            2.0.1: the maximum is the variableCharacteristics maxLimit
                            of SmartChargingCtrlr.Entries[ChargingProfiles], which only
                            GetReport shows, not GetVariables */
};

/* The capabilities query: *action = "GetConfiguration" (1.6, the four keys
 * above) or "GetVariables" (2.0.1, SmartChargingCtrlr Available, Enabled,
 * ProfileStackLevel, RateUnit). */
int ocpp_write_caps_query(enum ocpp_version v, const char **action, char *buf, size_t cap);

/* Reads GetConfiguration.conf configurationKey[] / GetVariablesResponse
 * getVariableResult[]. Keys the charger does not know, values it does not
 * give, rejected variables and unparsable values stay unknown (not errors). */
int ocpp_parse_caps(enum ocpp_version v, const char *payload, size_t len,
                    struct ocpp_caps *out);

/* Names for logs. */
const char *ocpp_status_str(enum ocpp_status status);
const char *ocpp_purpose_str(enum ocpp_version v, enum ocpp_purpose purpose);

#endif
