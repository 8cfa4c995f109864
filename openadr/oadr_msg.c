/* Builders of the messages the gateway publishes (oadr_msg.h). */
#include "oadr_msg.h"

#include <math.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "oadr_time.h"

/* Prints and frees; NULL if anything failed on the way (failed is set by
 * whoever could not add an item). */
static char *oadr__print(cJSON *root, bool failed)
{
    char *out = root && !failed ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return out;
}

char *oadr_msg_opt(const struct oadr_opt *o)
{
    cJSON *root = cJSON_CreateObject();
    bool failed = !root || !cJSON_AddStringToObject(root, "eventID", o->event_id);
    if (!failed && o->modified && o->modified[0])
        failed = !cJSON_AddStringToObject(root, "modificationDateTime", o->modified);
    failed = failed || !cJSON_AddStringToObject(root, "optType", o->opt_in ? "optIn" : "optOut") ||
             !cJSON_AddStringToObject(root, "reason", o->reason ? o->reason : "") ||
             !cJSON_AddNumberToObject(root, "responseCode", o->code);
    return oadr__print(root, failed);
}

/* The report's readings: payload type, value. */
struct oadr__reading {
    const char *type;
    double kw;
};

static bool oadr__descriptor(cJSON *list, const char *type)
{
    cJSON *d = cJSON_CreateObject();
    if (!d || !cJSON_AddItemToArray(list, d))
        return cJSON_Delete(d), false;
    return cJSON_AddStringToObject(d, "objectType", "REPORT_PAYLOAD_DESCRIPTOR") &&
           cJSON_AddStringToObject(d, "payloadType", type) &&
           cJSON_AddStringToObject(d, "readingType", "DIRECT_READ") &&
           cJSON_AddStringToObject(d, "units", "KW");
}

static bool oadr__payload(cJSON *list, const char *type, double kw)
{
    cJSON *p = cJSON_CreateObject();
    if (!p || !cJSON_AddItemToArray(list, p))
        return cJSON_Delete(p), false;
    cJSON *values = cJSON_AddStringToObject(p, "type", type) ? cJSON_AddArrayToObject(p, "values")
                                                            : NULL;
    /* Watts are the meters' resolution: three decimals of kW. */
    cJSON *v = values ? cJSON_CreateNumber(round(kw * 1000) / 1000) : NULL;
    if (!v || !cJSON_AddItemToArray(values, v))
        return cJSON_Delete(v), false;
    return true;
}

static bool oadr__resource(cJSON *resources, const struct oadr_report *r,
                           const struct oadr__reading *readings, size_t n)
{
    char start[OADR_TIME_TEXT_MAX], duration[32];
    if (oadr_time_format(r->start_us, start, sizeof(start)) < 0 ||
        oadr_duration_format(r->duration_us, duration, sizeof(duration)) < 0)
        return false;
    cJSON *res = cJSON_CreateObject();
    if (!res || !cJSON_AddItemToArray(resources, res))
        return cJSON_Delete(res), false;
    if (!cJSON_AddStringToObject(res, "resourceName", r->resource_name))
        return false;
    cJSON *period = cJSON_AddObjectToObject(res, "intervalPeriod");
    cJSON *intervals = cJSON_AddArrayToObject(res, "intervals");
    cJSON *interval = cJSON_CreateObject();
    if (!period || !cJSON_AddStringToObject(period, "start", start) ||
        !cJSON_AddStringToObject(period, "duration", duration) || !intervals || !interval ||
        !cJSON_AddItemToArray(intervals, interval))
        return cJSON_Delete(interval), false;
    cJSON *payloads = cJSON_AddNumberToObject(interval, "id", 0)
                          ? cJSON_AddArrayToObject(interval, "payloads") : NULL;
    if (!payloads)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(readings[i].kw) && !oadr__payload(payloads, readings[i].type, readings[i].kw))
            return false;
    }
    return true;
}

char *oadr_msg_report(const struct oadr_report *r)
{
    const struct oadr__reading readings[] = {
        { "DEMAND", r->import_kw },
        { "EV_DEMAND", r->ev_kw },
        { "IMPORT_CAPACITY_LIMIT", r->cap_kw },
        { "DOWN_REGULATION_AVAILABLE", r->flex_kw },
    };
    size_t n = sizeof(readings) / sizeof(readings[0]);
    cJSON *root = cJSON_CreateObject();
    bool failed = !root;
    if (!failed && r->event_id)
        failed = !cJSON_AddStringToObject(root, "eventID", r->event_id);
    failed = failed || !cJSON_AddStringToObject(root, "clientName", r->client_name) ||
             !cJSON_AddStringToObject(root, "reportName", r->report_name);
    cJSON *descriptors = failed ? NULL : cJSON_AddArrayToObject(root, "payloadDescriptors");
    failed = failed || !descriptors;
    for (size_t i = 0; i < n && !failed; i++)
        failed = !isnan(readings[i].kw) && !oadr__descriptor(descriptors, readings[i].type);
    cJSON *resources = failed ? NULL : cJSON_AddArrayToObject(root, "resources");
    failed = failed || !resources || !oadr__resource(resources, r, readings, n);
    return oadr__print(root, failed);
}

char *oadr_msg_status(const char *ven_id, bool online)
{
    cJSON *root = cJSON_CreateObject();
    bool failed = !root || !cJSON_AddStringToObject(root, "venID", ven_id) ||
                  !cJSON_AddStringToObject(root, "status", online ? "online" : "offline");
    return oadr__print(root, failed);
}
