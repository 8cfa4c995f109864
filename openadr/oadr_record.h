/* The persisted form of the schedule (pure; the gateway keeps it in its
 * store's key-value table).
 *
 * An event is kept as the notification it arrived in, byte for byte, with
 * the time it arrived and its drawn randomizeStart offset: after a restart it
 * is parsed again with "now" at its arrival, so that a start of "now" means
 * what it meant then, and checked again against the current config (a site
 * that left the program drops it). Cancelled ids are kept as a list.
 *
 *   {"received_us":"1718443800000000","offset_us":"0","notification":"{...}"}
 *   [{"id":"evt-1","modified_us":"9223372036854775807"}, ...]
 *
 * Times are strings: a JSON number (a double) cannot hold every int64.
 * Encoders return a malloc'd string (NULL when out of memory).
 */
#ifndef SITEGATE_OADR_RECORD_H
#define SITEGATE_OADR_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "oadr_schedule.h"

/* One event: the notification text (len bytes of UTF-8), its arrival and offset. */
char *oadr_record_encode(const char *notification, size_t len, int64_t received_us,
                         int64_t offset_us);

/* Reads a record: *notification is malloc'd (free it), *len its length.
 * 0 or -EINVAL (malformed), -ENOMEM. */
int oadr_record_decode(const char *text, char **notification, size_t *len, int64_t *received_us,
                       int64_t *offset_us);

/* The schedule's cancelled ids. */
char *oadr_record_tombs_encode(const struct oadr_schedule *s);

/* Puts the cancelled ids of a list back into s. 0 or -EINVAL. */
int oadr_record_tombs_decode(const char *text, struct oadr_schedule *s);

#endif
