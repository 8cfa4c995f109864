/* Stable names for the balancer's enums and error codes: the words its
 * results appear under in logs and metrics, so they never change once
 * released.
 */
#include "balancer.h"

#include <errno.h>

const char *balancer_source_name(enum balancer_source source)
{
    switch (source) {
    case BALANCER_SRC_CONFIG: return "config";
    case BALANCER_SRC_SCHEDULE: return "schedule";
    case BALANCER_SRC_DR: return "demand_response";
    case BALANCER_SRC_CSMS: return "csms";
    case BALANCER_SRC_TRANSFORMER: return "transformer";
    case BALANCER_SRC_NONE: return "none";
    case BALANCER_SRC_COUNT: break;
    }
    return "unknown";
}

const char *balancer_status_name(enum balancer_status status)
{
    static const char *const names[BALANCER_STATUS_COUNT] = {
        [BALANCER_NO_CAR] = "no_car",
        [BALANCER_PAUSED] = "paused",
        [BALANCER_PAUSED_BY_LIMIT] = "paused_by_limit",
        [BALANCER_AT_MIN] = "at_min",
        [BALANCER_SHARED] = "shared",
        [BALANCER_CAPPED_BY_MAX] = "capped_by_max",
        [BALANCER_CAPPED_BY_CHARGER] = "capped_by_charger",
        [BALANCER_LENT] = "lent",
        [BALANCER_NOT_FOLLOWING] = "not_following",
        [BALANCER_NO_SMART] = "no_smart_charging",
    };
    return (unsigned)status < BALANCER_STATUS_COUNT ? names[status] : "unknown";
}

const char *balancer_binding_name(enum balancer_binding binding)
{
    static const char *const names[BALANCER_BIND_COUNT] = {
        [BALANCER_BIND_NONE] = "none",
        [BALANCER_BIND_L1] = "phase_l1",
        [BALANCER_BIND_L2] = "phase_l2",
        [BALANCER_BIND_L3] = "phase_l3",
        [BALANCER_BIND_TOTAL] = "total",
    };
    return (unsigned)binding < BALANCER_BIND_COUNT ? names[binding] : "unknown";
}

const char *balancer_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case -EINVAL: return "invalid balancer input";
    case -ENOBUFS: return "balancer scratch buffer too small";
    default: return "unknown balancer error";
    }
}
