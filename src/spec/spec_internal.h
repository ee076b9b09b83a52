/*
 * spec_internal.h: the spec module's own tables, shared by spec.c (which
 * parses with them) and docs.c (which documents them), so the reference
 * cannot drift from the parser. Not installed.
 */
#ifndef SLUICE_SPEC_INTERNAL_H
#define SLUICE_SPEC_INTERNAL_H

#include "sluice/config_map.h"

/* Top-level keys of a spec. */
extern const sl_config_entry sl_spec_top_map[];
/* Keys of the `split` section. */
extern const sl_config_entry sl_spec_split_map[];

#endif
