/* Internal to modbus/: the bounded mailbox between the workers and the loop.
 * One small ring per meter; when a meter's ring is full its oldest sample is
 * dropped (only a meter's latest readings matter), so a slow loop costs
 * memory never, samples of other meters never. */
#ifndef SITEGATE_MODBUS_MAILBOX_H
#define SITEGATE_MODBUS_MAILBOX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meters.h"

#define MAILBOX_DEPTH 4 /* samples kept per meter */

struct mailbox__ring {
    struct meter_sample s[MAILBOX_DEPTH];
    unsigned head;  /* oldest */
    unsigned count;
};

struct mailbox {
    pthread_mutex_t lock;
    struct mailbox__ring *rings;
    size_t n_meters;
    uint64_t dropped;
};

/* Returns 0 or -ENOMEM. */
int mailbox_init(struct mailbox *mb, size_t n_meters);

void mailbox_destroy(struct mailbox *mb);

/* Copies s into s->meter's ring (any thread). Returns true when the mailbox
 * was empty before, i.e. when the loop needs a wake-up. */
bool mailbox_post(struct mailbox *mb, const struct meter_sample *s);

/* Moves out up to cap samples, meter by meter, oldest first. Returns how many. */
size_t mailbox_take(struct mailbox *mb, struct meter_sample *out, size_t cap);

/* Samples dropped so far. */
uint64_t mailbox_dropped(struct mailbox *mb);

#endif
