/* Demand response on the loop: the OpenADR MQTT client, the schedule of DR
 * events, and the DR limit it gives the control loop as one more site limit.
 *
 * Events are validated (openadr/oadr_event.h), answered (opt responses),
 * kept in the store so that a restart or a broker outage changes nothing,
 * and followed by a timer set to the next interval start or end, whether or
 * not the broker is there. Reports go out every openadr.report_interval_s
 * and at the end of each interval. One log line per change of the limit:
 * "info dr: limit in force kw=... event=..." and "info dr: no event in force".
 */
#ifndef SITEGATE_DR_H
#define SITEGATE_DR_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "oadr_event.h"
#include "oadr_mqtt.h"
#include "oadr_schedule.h"

struct control;
struct store;

#define DR_TOPIC_MAX 512
#define DR_IGNORED_MAX 32   /* ignored event ids (or topics) remembered, to log each once */

struct dr {
    uv_loop_t *loop;
    const struct config *cfg;
    struct store *store;
    struct control *control;
    struct oadr_mqtt *mqtt;
    struct oadr_schedule *sched;
    struct oadr_notification *scratch;        /* the message being parsed */
    struct oadr_parse_cfg parse;
    char topics[OADR_MQTT_TOPICS_MAX][DR_TOPIC_MAX];
    const char *topic_list[OADR_MQTT_TOPICS_MAX];
    char status_topic[DR_TOPIC_MAX];
    char report_topic[DR_TOPIC_MAX];
    char *online, *offline;                   /* status payloads */
    uv_timer_t tick;                          /* the next interval start or end */
    uv_timer_t report;                        /* the periodic report */
    int64_t reported_until_us;                /* interval ends up to here are reported */
    double limit_kw;                          /* the limit last given to control, NAN none */
    char limit_event[OADR_ID_MAX + 1];
    int32_t limit_interval;
    char ignored[DR_IGNORED_MAX][OADR_ID_MAX + 1];
    size_t ignored_next;
    bool started, stopping;
    int open;                                 /* timers and the client still closing */
};

/* Starts demand response when the config has an openadr section (else does
 * nothing and returns 0): loads the stored schedule, applies its limit, and
 * connects. 0 or a negative errno (the client could not be created). */
int dr_start(struct dr *d, uv_loop_t *loop, const struct config *cfg, struct store *store,
             struct control *control);

/* The config was reloaded in place: SIMPLE levels shed shares of the new
 * site.grid_limit_kw from now on, the event in force included. */
void dr_reload(struct dr *d);

/* Stops: no more limits or store writes from here on; the client says
 * offline and disconnects, and the memory goes once the loop has closed the
 * handles. Safe on a dr that never started. */
void dr_stop(struct dr *d);

#endif
