/* fast_csms's OCPP side (fast_csms_ocpp.c): the answer to each CALL, and what
 * the exit summary tells: CALLs per action and per charge point id, timing,
 * and the order check. The sockets are fast_csms.c's. Loop thread only.
 */
#ifndef SITEGATE_BENCH_FAST_CSMS_H
#define SITEGATE_BENCH_FAST_CSMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

void fcsms_free(void);

#endif
