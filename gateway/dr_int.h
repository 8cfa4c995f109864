/* Internal to gateway/dr*.c: the schedule's persistence (dr_store.c), used
 * by the loop glue (dr.c). */
#ifndef SITEGATE_DR_INT_H
#define SITEGATE_DR_INT_H

#include <stddef.h>
#include <stdint.h>

#include "dr.h"

/* The store's key-value namespace of demand response: "ids" (the ids held,
 * a JSON array), "event/<id>" (oadr_record.h) and "tombstones". */
#define DR_KV_NS "dr"

/* The wall clock, in microseconds since the epoch. */
int64_t dr__now_us(void);

/* Keeps the version of an event the schedule holds now, as received. */
void dr__save_event(struct dr *d, const char *id, const char *notification, size_t len);

/* Forgets a stored event (after a cancellation or once it is over); the
 * caller then saves the ids held, once for all the events it forgot. */
void dr__forget_event(struct dr *d, const char *id);

/* Writes the ids the schedule holds, so that a restart finds their records. */
void dr__save_ids(struct dr *d);

/* Writes the cancelled ids. */
void dr__save_tombstones(struct dr *d);

/* Loads the stored schedule; events that no longer parse or are no longer
 * for this site are dropped from the store (those that are over are pruned
 * by the caller, like any other). */
void dr__load(struct dr *d);

#endif
