/* Aggregate mode: the CSMS's CALL for one charger in that charger's version
 * (bridge.h), with the transaction ids the charger knows (agg_btx.h), and
 * the charger's answer mapped back for the CSMS. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agg_int.h"
#include "log.h"
#include "session.h"

/* What the answer to a mapped CALL needs, until it comes. */
struct agg_down_call {
    struct session *c;
    char action[FRAME_NAME_MAX + 1]; /* the CSMS's */
    int number;                      /* the site's connector / EVSE, 0 the whole charger */
    int duration;                    /* GetCompositeSchedule */
    int remote_id;                   /* RequestStartTransaction toward a 1.6 charger: */
    char id_tag[BRIDGE_TX_MAX];      /* kept for its StartTransaction */
    char token_type[16];
};

/* The charger's connector the payload names (already in its numbering). */
static int agg__down_connector(enum ocpp_version v, const cJSON *payload)
{
    static const char *const paths[][2] = {
        { NULL, "evseId" }, { "evse", "id" }, { "chargingProfileCriteria", "evseId" },
    };
    if (v == OCPP_16) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(payload, "connectorId");
        return cJSON_IsNumber(id) && id->valueint > 0 ? id->valueint : 0;
    }
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        const cJSON *o = paths[i][0] ? cJSON_GetObjectItemCaseSensitive(payload, paths[i][0]) : payload;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, paths[i][1]);
        if (cJSON_IsNumber(id))
            return id->valueint > 0 ? id->valueint : 0;
    }
    return 0;
}

/* The transaction a CALL names (RequestStop/RemoteStop, a TxProfile), as
 * the charger knows it. */
static void agg__down_tx(struct aggregate *a, struct session *c, const cJSON *payload, struct bridge_ctx *ctx)
{
    static const char *const holders[] = { NULL, "chargingProfile", "csChargingProfiles" };
    const cJSON *tx = NULL;
    for (size_t i = 0; i < 3 && !tx; i++)
        tx = cJSON_GetObjectItemCaseSensitive(holders[i] ? cJSON_GetObjectItemCaseSensitive(payload, holders[i])
                                                         : payload, "transactionId");
    const struct agg_btx *x = cJSON_IsString(tx) ? agg_btx_by_id201(&a->bridged, c->id, tx->valuestring)
                              : cJSON_IsNumber(tx) ? agg_btx_by_id16(&a->bridged, c->id, (int64_t)tx->valuedouble)
                                                   : NULL;
    if (!x)
        return;
    ctx->tx16 = x->id16;
    ctx->tx201 = x->id201;
}

int agg__down(struct aggregate *a, struct session *c, const char *action, const cJSON *payload,
              struct agg_down *out)
{
    enum ocpp_version site = agg__version(a);
    memset(out, 0, sizeof(*out));
    out->action = action;
    if (!agg__bridged(a, c)) {
        out->text = cJSON_PrintUnformatted(payload);
        return out->text ? 0 : -ENOMEM;
    }
    const struct bridge_rule *rule = bridge_rule(site, c->version, action);
    if (!rule)
        return -ENOTSUP;
    int connector = agg__down_connector(site, payload);
    struct bridge_ctx ctx = {
        .connector = connector, .remote_start_id = ++a->bridged.remote_ids & 0x7fffffff, .meter_wh = NAN,
        .now = time(NULL), .token_type = a->proxy->cfg->aggregate.id_token_type,
    };
    agg__down_tx(a, c, payload, &ctx);
    cJSON *mapped = NULL;
    int rc = rule->call ? rule->call(payload, &ctx, &mapped)
                        : ((mapped = cJSON_Duplicate(payload, 1)) ? 0 : -ENOMEM);
    struct agg_down_call *call = rc == 0 ? calloc(1, sizeof(*call)) : NULL;
    out->text = call ? cJSON_PrintUnformatted(mapped) : NULL;
    cJSON_Delete(mapped);
    if (rc == 0 && !out->text) {
        free(call);
        return -ENOMEM;
    }
    if (rc < 0)
        return rc;
    const cJSON *duration = cJSON_GetObjectItemCaseSensitive(payload, "duration");
    const cJSON *remote = cJSON_GetObjectItemCaseSensitive(payload, "remoteStartId");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(payload, "idToken");
    const cJSON *tag = cJSON_GetObjectItemCaseSensitive(token, "idToken");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(token, "type");
    call->c = c;
    snprintf(call->action, sizeof(call->action), "%s", action);
    call->number = connector > 0 ? agg_map_number(&a->map, c->id, connector) : 0;
    call->duration = cJSON_IsNumber(duration) ? duration->valueint : 0;
    call->remote_id = cJSON_IsNumber(remote) ? remote->valueint : -1;
    snprintf(call->id_tag, sizeof(call->id_tag), "%s", cJSON_IsString(tag) ? tag->valuestring : "");
    snprintf(call->token_type, sizeof(call->token_type), "%s", cJSON_IsString(type) ? type->valuestring : "");
    out->action = rule->out_action;
    out->call = call;
    return 0;
}

void agg__down_free(struct agg_down *d)
{
    free(d->text);
    free(d->call);
    memset(d, 0, sizeof(*d));
}

void agg__down_refuse(struct aggregate *a, const char *id, const char *action, int rc)
{
    bool trigger = strcmp(action, "TriggerMessage") == 0;
    log_info("proxy", "CSMS's %s not carried to the charger site=%s reason=%s", action, a->site->id,
             rc == -ENOTSUP ? "no equivalent in the charger's OCPP version"
             : rc == -ENOENT ? "unknown transaction"
             : rc == -ERANGE ? "a value the charger's OCPP version cannot carry" : "not valid");
    if (rc == -ENOENT || rc == -ERANGE || (rc == -ENOTSUP && trigger))
        agg__reply_status(a, id, rc == -ENOTSUP ? "NotImplemented" : "Rejected");
    else if (rc == -ENOTSUP)
        agg__refuse(a, id, "NotSupported", "no equivalent in the charger's OCPP version");
    else if (rc == -ENOMEM)
        agg__refuse(a, id, "InternalError", "out of memory");
    else
        agg__refuse(a, id, rc == -EINVAL ? "FormationViolation" : "PropertyConstraintViolation",
                    "a field is missing or not valid");
}

void agg__down_answer(void *ctx, const struct pending_call *pc, const struct frame *f)
{
    struct agg_down_call *call = ctx;
    struct aggregate *a = agg__of(call->c);
    if (!a || !a->site) {
        free(call);
        return;
    }
    enum ocpp_version site = agg__version(a);
    if (!f || f->type == FRAME_ERROR) {
        agg__refuse(a, pc->id, f ? f->error_code : "GenericError",
                    f ? "the charger refused it" : "the charger did not answer");
        free(call);
        return;
    }
    const struct bridge_rule *rule = bridge_rule(site, call->c->version, call->action);
    struct bridge_ctx bctx = { .connector = call->number, .duration = call->duration, .now = time(NULL),
                               .remote_start_id = -1, .meter_wh = NAN };
    cJSON *in = cJSON_ParseWithLength(f->payload.ptr, f->payload.len), *mapped = NULL;
    int rc = !cJSON_IsObject(in) ? -EINVAL
             : rule && rule->answer ? rule->answer(in, &bctx, &mapped)
                                    : ((mapped = cJSON_Duplicate(in, 1)) ? 0 : -ENOMEM);
    if (rc == 0) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(mapped, "status");
        if (call->remote_id >= 0 && call->c->version == OCPP_16 && call->number > 0 && cJSON_IsString(st) &&
            strcmp(st->valuestring, "Accepted") == 0)
            agg_btx_remote_put(&a->bridged, call->number, call->remote_id, call->id_tag, call->token_type);
        agg__reply(a, pc->id, mapped);
    } else {
        log_warn("proxy", "charger's answer not carried to the CSMS charger=%s action=%s", call->c->id,
                 call->action);
        agg__refuse(a, pc->id, "GenericError", "the charger's answer cannot be carried");
    }
    cJSON_Delete(in);
    cJSON_Delete(mapped);
    free(call);
}

bool agg__down_smart(struct session *c, const char *id, const struct agg_down *d)
{
    size_t len = strlen(d->text), cap = len + FRAME_ID_MAX + FRAME_NAME_MAX + 16;
    char *frame = malloc(cap);
    struct frame parsed;
    int n = frame ? frame_write_call(frame, cap, id, d->action, d->text, len) : -ENOMEM;
    bool taken = n > 0 && frame_parse(frame, (size_t)n, &parsed) == FRAME_OK && smart_csms_call(c, &parsed);
    free(frame);
    return taken;
}
