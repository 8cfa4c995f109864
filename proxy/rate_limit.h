/* A token bucket: at most rate events per second, in bursts of up to burst.
 * Time is an argument, so that it is a pure function of its inputs. */
#ifndef SITEGATE_RATE_LIMIT_H
#define SITEGATE_RATE_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct rate_limit {
    double tokens;
    uint64_t last_ms;
    unsigned refused_in_row;  /* events refused since the last one allowed */
};

/* A full bucket at now. */
void rate_limit_init(struct rate_limit *r, double burst, uint64_t now_ms);

/* Whether one more event at now fits; takes its token when it does. */
bool rate_limit_take(struct rate_limit *r, double rate, double burst, uint64_t now_ms);

#endif
