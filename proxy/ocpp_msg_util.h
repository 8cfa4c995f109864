/* Private helpers shared by ocpp_msg.c, ocpp_observe.c and ocpp_profile.c.
 * Not part of the proxy's public face: include ocpp_msg.h instead.
 */
#ifndef SITEGATE_OCPP_MSG_UTIL_H
#define SITEGATE_OCPP_MSG_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "frame.h" /* enum ocpp_version */

/* Field getters: 0 found and valid, OCPP_MSG__ABSENT when the key is not
 * there, -EPROTO when it is there but of the wrong type or out of range
 * (JSON null is a wrong type: OCPP never sends null). */
#define OCPP_MSG__ABSENT 1

/* Parses a payload that must be a JSON object (strict JSON, see
 * frame_json_valid) into a read-only tree (json_tree.h): read it with cJSON's
 * accessors, change nothing, keep no pointer into it past
 * ocpp_msg__release, which the caller must call instead of cJSON_Delete.
 * 0, -EINVAL, -EMSGSIZE or -ENOMEM. */
int ocpp_msg__parse(const char *payload, size_t len, cJSON **out);
/* The same for the payload of a frame frame_parse accepted: not validated
 * again (json_tree_build). */
int ocpp_msg__parse_frame(const struct frame *f, cJSON **out);
void ocpp_msg__release(cJSON *root);

int ocpp_msg__int(const cJSON *obj, const char *name, long long lo, long long hi,
                  long long *out);
int ocpp_msg__num(const cJSON *obj, const char *name, double *out);
int ocpp_msg__bool(const cJSON *obj, const char *name, bool *out);
/* A string of at most maxlen bytes; *out points into obj. */
int ocpp_msg__str(const cJSON *obj, const char *name, size_t maxlen, const char **out);
/* A string that must be one of names[0..n): its index. */
int ocpp_msg__enum(const cJSON *obj, const char *name, const char *const *names, size_t n,
                   int *out);
/* An RFC 3339 date-time string. */
int ocpp_msg__time(const cJSON *obj, const char *name, time_t *out);
/* An object / array member (type cJSON_Object or cJSON_Array). */
int ocpp_msg__child(const cJSON *obj, const char *name, int type, const cJSON **out);

/* Turns OCPP_MSG__ABSENT into -EINVAL, for fields that must be there. */
static inline int ocpp_msg__need(int rc)
{
    return rc == OCPP_MSG__ABSENT ? -EINVAL : rc;
}

/* Index of s in names (exact match), or -1. */
int ocpp_msg__lookup(const char *s, const char *const *names, size_t n);

/* RFC 3339 date-time ("2024-05-01T10:00:00Z", "...10:00:00.123+05:30") to
 * UTC seconds; fractions are dropped. 0 or -EPROTO. */
int ocpp_msg__parse_time(const char *s, time_t *out);
/* "YYYY-MM-DDTHH:MM:SSZ" into out[21]; -EINVAL outside years 1970..9999. */
int ocpp_msg__format_time(time_t t, char out[21]);

/* A decimal number in text ("12.5", "-3", "1e3", " 7 "), locale-independent.
 * 0, or -EPROTO when it is not one. */
int ocpp_msg__parse_decimal(const char *s, double *out);

/* Copies a string of at most cap-1 bytes. */
void ocpp_msg__copy(char *dst, size_t cap, const char *src);

/* Writer: appends to a caller buffer, remembers overflow, NUL-terminates. */
struct ocpp_msg__out {
    char *buf;
    size_t cap, len;
    bool full;
};

void ocpp_msg__out_init(struct ocpp_msg__out *o, char *buf, size_t cap);
void ocpp_msg__put(struct ocpp_msg__out *o, const char *s);
void ocpp_msg__put_int(struct ocpp_msg__out *o, long long v);
/* v tenths as "V.T" (-35 -> "-3.5", 320 -> "32.0"). */
void ocpp_msg__put_tenths(struct ocpp_msg__out *o, long long tenths);
/* A JSON string with quotes; ", \ and control characters escaped. */
void ocpp_msg__put_str(struct ocpp_msg__out *o, const char *s);
/* The length written, or -ENOSPC (buf is then ""). */
int ocpp_msg__out_end(struct ocpp_msg__out *o);

/* The quantities read from meter values (ocpp_meter.c). */
enum ocpp_msg__qty { OCPP_MSG__Q_OTHER, OCPP_MSG__Q_CURRENT, OCPP_MSG__Q_POWER, OCPP_MSG__Q_ENERGY };

/* Whether a value of that quantity is believable: finite, |current| <= 10 kA,
 * |power| <= 10 MW, 0 <= energy <= 1 TWh. */
bool ocpp_msg__sane(enum ocpp_msg__qty q, double v);

struct ocpp_observation;

/* meterValue[] / transactionData[] (a cJSON array) into out's current_a,
 * power_w and energy_wh: every sample validated, the last of each kind wins;
 * take_time: out->timestamp is the last meterValue's. 0, -EINVAL, -EPROTO. */
int ocpp_msg__meter_values(enum ocpp_version v, const cJSON *arr, bool take_time,
                           struct ocpp_observation *out);

/* The largest multiple of 0.1 <= v, in tenths (v finite, |v| < 1e15). */
long long ocpp_msg__floor_tenths(double v);

#endif
