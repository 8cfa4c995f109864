/* fast_csms's OCPP side (fast_csms_ocpp.c): the answer to each CALL, and what
 * the exit summary tells: CALLs per action and per charge point id, timing,
 * and the order check; and the CSMS's own CALLs to the chargers with their
 * round trips (fast_csms_calls.c). The sockets are fast_csms.c's. Loop thread
 * only.
 */
#ifndef SITEGATE_BENCH_FAST_CSMS_H
#define SITEGATE_BENCH_FAST_CSMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "frame.h"

#define FCSMS_ID_MAX 64       /* charge point ids are at most 48 characters */
#define FCSMS_ANSWER_MAX 512  /* one CALLRESULT or CALLERROR */

/* The order check's field ("" turns it off): per charge point id, the first
 * "<field>": value in each CALL's payload must not be smaller than the one
 * before it. -EINVAL if field cannot be a JSON key here. */
int fcsms_set_order_field(const char *field);

/* The index of a charge point id, added when new; -EINVAL for an id that is
 * empty, too long or not printable ASCII without '"' and '\\' (OCPP's
 * identities are), -ENOMEM. Once per connection, so it scans. */
long fcsms_identity(const char *id);

const char *fcsms_identity_name(size_t ident);

/* Counts a CALL of identity ident (per action and id, its time, its order
 * field) and writes its CALLRESULT into out; the length, or -ENOSPC. */
int fcsms_answer(size_t ident, enum ocpp_version version, const struct frame *f, char *out,
                 size_t cap);

/* Counts a frame that is not OCPP-J. */
void fcsms_bad_frame(void);

/* CALLs so far. */
uint64_t fcsms_count(void);

/* The one-line JSON summary, on stdout. */
void fcsms_print_summary(uint64_t expected, bool reached, uint64_t connections);

/* A one-line JSON snapshot on stdout: CALLs, connections and
 * BootNotifications so far, CPU time, and the CSMS's own CALLs since the last
 * snapshot (then counted afresh). */
void fcsms_print_snapshot(uint64_t connections);

/* ---- the CSMS's own CALLs (fast_csms_calls.c) ---- */

/* Sends one message on a connection; -1 when it cannot (it is being closed). */
typedef int (*fcsms_send_fn)(void *conn, const char *msg, size_t len);

/* Prepares the CALL timer on loop: rate CALLs per second in all (0: none),
 * sent with send. -ENOMEM, -EINVAL. */
int fcsms_calls_init(uv_loop_t *loop, double rate, fcsms_send_fn send);

/* Stops and closes the timer. */
void fcsms_calls_stop(void);

/* A booted charger's connection takes CALLs from now on: its slot, or
 * -ENOMEM. */
long fcsms_calls_add(void *conn, enum ocpp_version version);

/* The connection in slot is closing. */
void fcsms_calls_remove(size_t slot);

/* A CALLRESULT or CALLERROR on the connection in slot: the answer to its
 * CALL in flight, timed, or counted as unmatched. */
void fcsms_calls_answer(size_t slot, const struct frame *f);

/* ,"csms_calls":{sent, answered, errors, unmatched, missed, rtt} for the
 * summary line; reset: count afresh from now on. */
void fcsms_calls_print_json(FILE *out, bool reset);

void fcsms_free(void);

#endif
