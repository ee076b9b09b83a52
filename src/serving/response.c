/*
 * response.c: JSON bodies the server sends: predictions and errors.
 *
 * Written by hand into a strbuf rather than built as a jansson tree: a
 * 32-row response is a few hundred bytes and this is the hot path. Class
 * labels are rendered once per loaded version (sv_version.class_json) in
 * the target's JSON type ("rain", 3, true); probabilities use the shortest
 * text that reads back as the same double, so a client gets exactly what
 * the model computed.
 */
#include <stdio.h>
#include <string.h>

#include "serving/internal.h"

void sv_error_json(sl_strbuf *b, const char *code, const char *msg)
{
    sl_sb_str(b, "{\"error\":{\"code\":");
    sl_sb_json_str(b, code, strlen(code));
    sl_sb_str(b, ",\"message\":");
    sl_sb_json_str(b, msg, strlen(msg));
    sl_sb_str(b, "}}\n");
}

int sv_status_for(sl_rc rc, const char **code)
{
    switch (rc) {
    case SL_EPARSE:
        *code = "invalid_json";
        return 400;
    case SL_EINVAL:
    case SL_ESCHEMA:
        *code = "invalid_argument";
        return 400;
    case SL_ELIMIT:
        *code = "payload_too_large";
        return 413;
    case SL_ENOTFOUND:
        *code = "not_found";
        return 404;
    case SL_ENOMEM:
        *code = "resource_exhausted";
        return 503;
    default:
        *code = "internal";
        return 500;
    }
}

void sv_predictions_json(sl_strbuf *b, const sv_version *v,
                         const sl_prediction *p)
{
    sl_sb_str(b, "{\"predictions\":[");
    for (int64_t i = 0; i < p->n; i++) {
        if (i)
            sl_sb_char(b, ',');
        if (p->task == SL_TASK_CLASSIFICATION) {
            int32_t k = p->label[i];
            sl_sb_str(b, k >= 0 && k < v->nclasses ? v->class_json[k] : "null");
        } else {
            sl_sb_json_double(b, p->value[i]);
        }
    }
    sl_sb_char(b, ']');
    if (p->task == SL_TASK_CLASSIFICATION) {
        sl_sb_str(b, ",\"probabilities\":[");
        for (int64_t i = 0; i < p->n; i++) {
            sl_sb_str(b, i ? ",[" : "[");
            const double *row = p->proba + (size_t)i * (size_t)p->nclasses;
            for (int k = 0; k < p->nclasses; k++) {
                if (k)
                    sl_sb_char(b, ',');
                sl_sb_json_double(b, row[k]);
            }
            sl_sb_char(b, ']');
        }
        sl_sb_str(b, "],\"classes\":");
        sl_sb_str(b, v->classes_json);
    }
    sl_sb_str(b, ",\"model_name\":");
    sl_sb_json_str(b, v->name, strlen(v->name));
    sl_sb_printf(b, ",\"model_version\":%d}\n", v->version);
}
