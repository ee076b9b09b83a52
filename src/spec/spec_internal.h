/*
 * spec_internal.h: the spec module's own tables, shared by spec.c (which
 * parses with them) and docs.c (which documents them), so the reference
 * cannot drift from the parser. Not installed.
 */
#ifndef SLUICE_SPEC_INTERNAL_H
#define SLUICE_SPEC_INTERNAL_H

#include <stdio.h>

#include "sluice/config_map.h"

/* Top-level keys of a spec. */
extern const sl_config_entry sl_spec_top_map[];
/* Keys of the `split` section. */
extern const sl_config_entry sl_spec_split_map[];

/* The training sections (spec_train.c). */
struct sl_spec;
extern const sl_config_entry sl_spec_model_map[];
extern const sl_config_entry sl_spec_evaluate_map[];
extern const sl_config_entry sl_spec_registry_map[];
/* Validates model/evaluate/registry (any may be NULL) into s. */
sl_rc sl_spec_train_load(struct sl_spec *s, const sl_node *model,
                         const sl_node *evaluate, const sl_node *registry,
                         sl_err *err);
void sl_spec_train_free(struct sl_spec *s);
/* The Model, Evaluate, Registry and Model types sections of spec.md. */
void sl_spec_train_docs_md(FILE *out);

#endif
