/* Internal to bridge*.c: the helpers the mappings share (bridge.h is the face). */
#ifndef SITEGATE_BRIDGE_INT_H
#define SITEGATE_BRIDGE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "bridge.h"

#define BRIDGE__N(a) (sizeof(a) / sizeof((a)[0]))

/* A name of one version and the one it becomes in the other. */
struct bridge__pair {
    const char *from, *to;
};

/* The pair whose from is s; NULL when none (s NULL too). */
const char *bridge__map(const struct bridge__pair *pairs, size_t n, const char *s);

/* A string member of at most max bytes (0, OCPP_MSG__ABSENT, -EPROTO), as
 * ocpp_msg__str; required: absent is -EINVAL. */
int bridge__str(const cJSON *obj, const char *name, size_t max, bool required, const char **out);
/* An integer member in lo..hi, as above. */
int bridge__int(const cJSON *obj, const char *name, long long lo, long long hi, bool required,
                long long *out);

/* Adds a copy of src's member name to dst as name as (as NULL: the same
 * name), when src has it; false only when out of memory. */
bool bridge__copy(cJSON *dst, const cJSON *src, const char *name, const char *as);

/* Adds "name": "<t as RFC 3339 UTC>". */
bool bridge__add_time(cJSON *dst, const char *name, time_t t);

/* Makes *out an empty object; -ENOMEM. */
int bridge__object(cJSON **out);

/* Finishes a mapping: rc 0 and not out of memory (oom false) keeps *out,
 * anything else deletes it (-ENOMEM when oom). */
int bridge__done(int rc, bool ok, cJSON **out);

/* ---- values (bridge_values.c) ---- */

/* A 1.6 idTag (at most 20) as a 2.0.1 IdTokenType of that type. */
cJSON *bridge__id_token(const char *id_tag, const char *type);
/* The idToken of a 2.0.1 IdTokenType object as a 1.6 idTag: -EPROTO when it
 * is not a valid IdTokenType, -ERANGE when longer than 20. */
int bridge__id_tag(const cJSON *id_token, const char **out);
/* 2.0.1 idTokenInfo -> 1.6 idTagInfo, and back. */
int bridge__tag_info_16(const cJSON *id_token_info, cJSON **out);
int bridge__token_info_201(const cJSON *id_tag_info, cJSON **out);

/* meterValue[] of one version as the other's (samples it cannot carry left
 * out, meterValues left empty dropped): -EPROTO when arr is not an array of
 * objects with a timestamp, -ENODATA when nothing is left. */
int bridge__meter_values_201(const cJSON *arr16, cJSON **out);
int bridge__meter_values_16(const cJSON *arr201, cJSON **out);
/* One 2.0.1 meterValue with the energy register wh (Wh) in context ctx_name. */
cJSON *bridge__energy_value_201(const char *timestamp, double wh, const char *ctx_name);

/* ---- profiles (bridge_profile.c) ---- */

/* A charging profile object of one version as the other's; a TxProfile's
 * transactionId is the ctx's (tx16 / tx201: -ENOENT when not known). */
int bridge__profile_16(const cJSON *profile201, const struct bridge_ctx *ctx, cJSON **out);
int bridge__profile_201(const cJSON *profile16, const struct bridge_ctx *ctx, cJSON **out);
/* SetChargingProfile, ClearChargingProfile, GetCompositeSchedule and its
 * answer, named by the version they make (ctx->connector: the connector or
 * EVSE written). */
int bridge__set_profile_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);
int bridge__set_profile_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);
int bridge__clear_profile_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);
int bridge__clear_profile_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);
int bridge__composite_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);
int bridge__composite_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);
int bridge__composite_answer_16(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);
int bridge__composite_answer_201(const cJSON *in, const struct bridge_ctx *ctx, cJSON **out);

#endif
