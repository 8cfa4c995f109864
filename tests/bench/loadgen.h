/* loadgen's two halves: the sockets, pacing and statistics (loadgen.c), and
 * what a simulated charger says and answers (loadgen_ocpp.c). Loop thread
 * only.
 */
#ifndef SITEGATE_BENCH_LOADGEN_H
#define SITEGATE_BENCH_LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench_wsq.h"
#include "frame.h"

#define LG_ID_MAX 48            /* OCPP identities */
#define LG_CALL_MAX 2048        /* one CALL or answer a charger writes */

enum lg_state {
    LG_IDLE,        /* no socket (not yet, or waiting to connect again) */
    LG_CONNECTING,
    LG_BOOTING,     /* connected, BootNotification sent */
    LG_READY,       /* booted: runs its sessions */
    LG_REFUSED,     /* its BootNotification was not accepted: it stops */
};

/* One simulated charger, one connector. */
struct lg_charger {
    struct lws *wsi;
    struct bwsq q;
    uint32_t index;
    char id[LG_ID_MAX + 1];
    enum ocpp_version version;
    enum lg_state state;
    uint64_t retry_ns;          /* LG_IDLE: when to connect (again) */
    /* The CALL in flight: OCPP-J allows one at a time. */
    bool in_flight;
    char call_id[16];
    const char *call_action;
    uint64_t sent_ns;
    uint64_t next_msg;
    /* Its script (loadgen_ocpp.c). */
    unsigned step;
    unsigned beats;             /* Heartbeats before its first session */
    int64_t tx_id;              /* 1.6: the CSMS's transactionId */
    uint32_t seq_no;            /* 2.0.1: TransactionEvent seqNo */
    uint64_t energy_wh;
};

/* The script's shape: MeterValues per charging session (at least 1). */
void lg_ocpp_set_meters_per_session(unsigned n);

/* Writes the charger's BootNotification CALL into buf (sets call_id and
 * call_action); its length, or -ENOSPC. */
int lg_boot_call(struct lg_charger *c, char *buf, size_t cap);

/* Writes the next CALL of the charger's sessions: status, Authorize, start,
 * MeterValues every step, stop, status, Heartbeat, and again. After its boot a
 * charger sends as many Heartbeats as its number modulo the length of a
 * session first, so that the chargers are spread over the steps of a session
 * rather than all starting, metering and stopping together. */
int lg_next_call(struct lg_charger *c, char *buf, size_t cap);

/* The CSMS's answer to the CALL in flight (already matched by id): takes
 * what the script needs (a transaction id, the boot's status). -EPERM when
 * the BootNotification was not accepted. */
int lg_on_answer(struct lg_charger *c, const struct frame *f);

/* The charger's answer to a CALL from the gateway or the CSMS (smart charging
 * queries and profiles, configuration reads, ...), into buf: a CALLRESULT, or
 * a CALLERROR NotImplemented for what a bench charger does not do. Its
 * length, or -ENOSPC. Counted per action. */
int lg_answer_call(struct lg_charger *c, const struct frame *f, char *buf, size_t cap);

/* {"Action":count,...}: the CALLs the chargers answered. */
void lg_ocpp_print_answered(FILE *out);

#endif
