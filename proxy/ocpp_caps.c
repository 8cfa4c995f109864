/* Smart-charging capabilities: the query the gateway sends when a charger
 * boots, and what it makes of the answer.
 *
 * 1.6 configuration keys (OCPP 1.6 §9.1 Core and §9.4 Smart Charging):
 * SupportedFeatureProfiles (CSL), ChargeProfileMaxStackLevel (integer),
 * ChargingScheduleAllowedChargingRateUnit (CSL of Current, Power),
 * MaxChargingProfilesInstalled (integer).
 * 2.0.1 SmartChargingCtrlr variables (Part 2 Appendices, "Referenced
 * Components and Variables"): Available, Enabled (boolean), ProfileStackLevel
 * (integer, Actual), RateUnit (MemberList of A, W).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "ocpp_msg.h"
#include "ocpp_msg_util.h"

#define N_(a) (sizeof(a) / sizeof((a)[0]))

static const char *const caps__keys16[] = {
    "SupportedFeatureProfiles", "ChargeProfileMaxStackLevel",
    "ChargingScheduleAllowedChargingRateUnit", "MaxChargingProfilesInstalled",
};
static const char *const caps__vars201[] = { "Available", "Enabled", "ProfileStackLevel", "RateUnit" };
#define CAPS__COMPONENT "SmartChargingCtrlr"

int ocpp_write_caps_query(enum ocpp_version v, const char **action, char *buf, size_t cap)
{
    struct ocpp_msg__out o;

    if (buf && cap)
        buf[0] = '\0';
    if (action)
        *action = NULL;
    if (!action || (v != OCPP_16 && v != OCPP_201))
        return -EINVAL;
    ocpp_msg__out_init(&o, buf, cap);
    if (v == OCPP_16) {
        *action = "GetConfiguration";
        ocpp_msg__put(&o, "{\"key\":[");
        for (size_t i = 0; i < N_(caps__keys16); i++) {
            if (i)
                ocpp_msg__put(&o, ",");
            ocpp_msg__put_str(&o, caps__keys16[i]);
        }
        ocpp_msg__put(&o, "]}");
    } else {
        *action = "GetVariables";
        ocpp_msg__put(&o, "{\"getVariableData\":[");
        for (size_t i = 0; i < N_(caps__vars201); i++) {
            if (i)
                ocpp_msg__put(&o, ",");
            ocpp_msg__put(&o, "{\"component\":{\"name\":\"" CAPS__COMPONENT "\"},"
                              "\"variable\":{\"name\":");
            ocpp_msg__put_str(&o, caps__vars201[i]);
            ocpp_msg__put(&o, "}}");
        }
        ocpp_msg__put(&o, "]}");
    }
    return ocpp_msg__out_end(&o);
}

/* Whether a comma-separated list holds item (case-insensitive, spaces trimmed). */
static bool caps__list_has(const char *list, const char *item)
{
    size_t n = strlen(item);

    while (*list) {
        const char *end = strchr(list, ',');
        size_t len = end ? (size_t)(end - list) : strlen(list);

        while (len && *list == ' ') {
            list++;
            len--;
        }
        while (len && list[len - 1] == ' ')
            len--;
        if (len == n && strncasecmp(list, item, n) == 0)
            return true;
        if (!end)
            break;
        list = end + 1;
    }
    return false;
}

/* A non-negative decimal integer as text, or -1. */
static int caps__int(const char *s)
{
    long v = 0;
    int digits = 0;

    while (*s == ' ')
        s++;
    if (*s == '+')
        s++;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (++digits > 9)
            return -1;
        v = v * 10 + (*s - '0');
    }
    while (*s == ' ')
        s++;
    return digits && !*s ? (int)v : -1;
}

/* "true" / "false" -> 1 / 0, else -1. */
static int caps__bool(const char *s)
{
    if (strcasecmp(s, "true") == 0)
        return 1;
    if (strcasecmp(s, "false") == 0)
        return 0;
    return -1;
}

static void caps__init(struct ocpp_caps *out)
{
    out->smart_charging = -1;
    out->max_stack_level = -1;
    out->unit_a = out->unit_w = false;
    out->max_profiles = -1;
}

static void caps__units(struct ocpp_caps *out, const char *list, const char *a, const char *w)
{
    out->unit_a = caps__list_has(list, a);
    out->unit_w = caps__list_has(list, w);
}

static int caps__parse16(const cJSON *root, struct ocpp_caps *out)
{
    const cJSON *keys, *it;
    int rc = ocpp_msg__child(root, "configurationKey", cJSON_Array, &keys);

    if (rc != 0)
        return rc < 0 ? rc : 0; /* no known key at all: everything unknown */
    cJSON_ArrayForEach(it, keys) {
        const char *key, *value;
        int k;

        if (!cJSON_IsObject(it))
            return -EPROTO;
        if ((rc = ocpp_msg__need(ocpp_msg__str(it, "key", 50, &key))) < 0 ||
            (rc = ocpp_msg__str(it, "value", 500, &value)) < 0)
            return rc;
        if (rc == OCPP_MSG__ABSENT) /* a key without a value tells nothing */
            continue;
        for (k = 0; k < (int)N_(caps__keys16); k++)
            if (strcasecmp(key, caps__keys16[k]) == 0)
                break;
        switch (k) {
        case 0: out->smart_charging = caps__list_has(value, "SmartCharging"); break;
        case 1: out->max_stack_level = caps__int(value); break;
        case 2: caps__units(out, value, "Current", "Power"); break;
        case 3: out->max_profiles = caps__int(value); break;
        default: break;
        }
    }
    return 0;
}

static int caps__parse201(const cJSON *root, struct ocpp_caps *out)
{
    static const char *const statuses[] = { "Accepted", "Rejected", "UnknownComponent",
                                            "UnknownVariable", "NotSupportedAttributeType" };
    static const char *const attr_types[] = { "Actual", "Target", "MinSet", "MaxSet" };
    const cJSON *results, *it;
    int available = -1, enabled = -1;
    int rc = ocpp_msg__need(ocpp_msg__child(root, "getVariableResult", cJSON_Array, &results));

    if (rc < 0)
        return rc;
    cJSON_ArrayForEach(it, results) {
        const cJSON *component, *variable;
        const char *cname, *vname, *value = NULL;
        int status, type = 0, k;

        if (!cJSON_IsObject(it))
            return -EPROTO;
        if ((rc = ocpp_msg__need(ocpp_msg__enum(it, "attributeStatus", statuses,
                                                N_(statuses), &status))) < 0 ||
            (rc = ocpp_msg__enum(it, "attributeType", attr_types, N_(attr_types), &type)) < 0 ||
            (rc = ocpp_msg__str(it, "attributeValue", 2500, &value)) < 0 ||
            (rc = ocpp_msg__need(ocpp_msg__child(it, "component", cJSON_Object,
                                                 &component))) < 0 ||
            (rc = ocpp_msg__need(ocpp_msg__str(component, "name", 50, &cname))) < 0 ||
            (rc = ocpp_msg__need(ocpp_msg__child(it, "variable", cJSON_Object, &variable))) < 0 ||
            (rc = ocpp_msg__need(ocpp_msg__str(variable, "name", 50, &vname))) < 0)
            return rc;
        /* Component and variable names are case-insensitive (2.0.1 schema). */
        if (status != 0 || type != 0 || !value || strcasecmp(cname, CAPS__COMPONENT) != 0)
            continue;
        for (k = 0; k < (int)N_(caps__vars201); k++)
            if (strcasecmp(vname, caps__vars201[k]) == 0)
                break;
        switch (k) {
        case 0: available = caps__bool(value); break;
        case 1: enabled = caps__bool(value); break;
        case 2: out->max_stack_level = caps__int(value); break;
        case 3: caps__units(out, value, "A", "W"); break;
        default: break;
        }
    }
    if (available == 0 || enabled == 0)
        out->smart_charging = 0;
    else if (available == 1 || enabled == 1)
        out->smart_charging = 1;
    return 0;
}

int ocpp_parse_caps(enum ocpp_version v, const char *payload, size_t len, struct ocpp_caps *out)
{
    cJSON *root;
    int rc;

    caps__init(out);
    if (v != OCPP_16 && v != OCPP_201)
        return -EINVAL;
    if ((rc = ocpp_msg__parse(payload, len, &root)) < 0)
        return rc;
    rc = v == OCPP_16 ? caps__parse16(root, out) : caps__parse201(root, out);
    ocpp_msg__release(root);
    if (rc < 0)
        caps__init(out);
    return rc;
}
