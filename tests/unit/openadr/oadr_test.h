/* Helpers of the openadr tests: a valid event notification to start from,
 * an editor that changes one value of it by path, and the parse settings of
 * the test site. */
#ifndef SITEGATE_OADR_TEST_H
#define SITEGATE_OADR_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_with.h"
#include "oadr_event.h"
#include "oadr_time.h"

/* 2023-06-15T09:30:00Z, half an hour before the base event starts. */
#define T_NOW (1686821400LL * OADR_US_PER_S)
#define T_START (1686823200LL * OADR_US_PER_S)
#define HOUR (3600LL * OADR_US_PER_S)

static const char base_event[] =
    "{\"objectType\":\"EVENT\",\"operation\":\"CREATE\",\"object\":{"
    "\"id\":\"evt-1\",\"objectType\":\"EVENT\",\"programID\":\"ev-peak-dr\","
    "\"createdDateTime\":\"2023-06-15T09:00:00Z\","
    "\"modificationDateTime\":\"2023-06-15T09:00:00Z\","
    "\"eventName\":\"evening peak\",\"priority\":1,\"targets\":[\"DEPOT-01\"],"
    "\"payloadDescriptors\":[{\"objectType\":\"EVENT_PAYLOAD_DESCRIPTOR\","
    "\"payloadType\":\"IMPORT_CAPACITY_LIMIT\",\"units\":\"KW\"}],"
    "\"intervalPeriod\":{\"start\":\"2023-06-15T10:00:00Z\",\"duration\":\"PT1H\"},"
    "\"intervals\":[{\"id\":0,\"payloads\":[{\"type\":\"IMPORT_CAPACITY_LIMIT\","
    "\"values\":[20]}]}]}}";

static const char *const test_programs[] = { "ev-peak-dr", "tod-2" };
static const char *const test_groups[] = { "north-feeder" };

static const struct oadr_parse_cfg test_cfg = {
    .ven_id = "VEN-7",
    .site_id = "DEPOT-01",
    .programs = test_programs,
    .n_programs = 2,
    .groups = test_groups,
    .n_groups = 1,
    .max_bytes = 65536,
    .max_future_us = 168 * HOUR,
};

/* Parses text with the test site's settings at now. */
static inline enum oadr_verdict parse_at(const char *text, int64_t now,
                                         struct oadr_notification *n, char *err)
{
    return oadr_parse(text, strlen(text), &test_cfg, now, n, err);
}

#endif
