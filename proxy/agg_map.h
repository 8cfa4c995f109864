/* Internal to proxy/: aggregate mode's connector numbering, (charger,
 * connector) <-> site connector number.
 *
 * Numbers named in the config (chargers[].site_connectors) are fixed; every
 * other connector of a known charger gets the next free number the first
 * time it is seen (configured chargers at start, in config order), and the
 * assignment is kept in the store, so that the numbering a CSMS knows never
 * changes across restarts, reordered configs or added chargers.
 */
#ifndef SITEGATE_AGG_MAP_H
#define SITEGATE_AGG_MAP_H

#include <stddef.h>

#include "config.h"

struct store;

struct agg_slot {
    char charger[CONFIG_ID_MAX + 1]; /* "" for a number nobody has */
    int connector;
};

struct agg_map {
    struct agg_slot *slots;          /* slots[number - 1] */
    size_t n;                        /* the highest number in use */
    struct store *store;             /* where assignments are kept; may be NULL */
};

/* Builds the map from the config and the store's assignments, and numbers
 * every configured connector; 0 or a negative errno. */
int agg_map_load(struct agg_map *m, const struct config *cfg, struct store *st);

/* The site number of a charger's connector (>= 1), assigning the next free
 * one to a connector seen for the first time; negative errno on failure. */
int agg_map_number(struct agg_map *m, const char *charger, int connector);

/* The number's owner, or NULL when the number is not assigned. */
const struct agg_slot *agg_map_slot(const struct agg_map *m, int number);

void agg_map_free(struct agg_map *m);

#endif
