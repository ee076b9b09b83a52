/*
 * kafka_txn.c: the exactly-once checkpoint (kafka.h) of a Kafka source
 * feeding a transactional Kafka sink.
 *
 * Between two checkpoints the sink writes inside one open transaction.
 * A checkpoint sends the source's pending offsets into that transaction
 * and commits it, so the output rows and the input offsets become visible
 * together or not at all: after a crash, the aborted (or never committed)
 * rows are invisible to read_committed consumers and their input is read
 * again from the committed offsets. Dead letters still go to their own
 * destination first (made durable before the commit): at-least-once.
 *
 * Recovery without a restart: a rebalance that revoked partitions leaves
 * rows of them in the open transaction whose offsets this worker may no
 * longer commit, and some errors (a failed delivery, a generation change)
 * doom the transaction. Both end in abort + rewind: the transaction is
 * aborted and the source goes back to its committed offsets, so the rows
 * of the partitions it still owns are produced again in the next one.
 */
#include <stdio.h>

#include "ingestion/kafka_internal.h"
#include "sluice/kafka.h"
#include "sluice/log.h"

int sl_kafka_sink_transactional(void *sink)
{
    return sink && sl_ksink_transactional(sink);
}

int sl_kafka_source_revoked(void *source)
{
    return source && sl_ksrc_revoked(source);
}

static sl_rc abort_and_rewind(void *source, void *sink, const char *why, sl_err *err)
{
    sl_log(SL_LOG_WARN, "kafka", "aborting the open transaction (%s); the rows since the "
           "last commit are produced again", why);
    sl_rc rc = sl_ksink_txn_abort(sink, err);
    if (rc == SL_OK && source)
        rc = sl_ksrc_rewind(source, err);
    return rc;
}

sl_rc sl_kafka_txn_checkpoint(void *source, void *sink, int *aborted, sl_err *err)
{
    rd_kafka_topic_partition_list_t *offs = NULL;
    rd_kafka_consumer_group_metadata_t *md = NULL;
    int abortable = 0;
    sl_rc rc = SL_OK;
    *aborted = 0;
    if (source && sl_ksrc_revoked(source)) {
        *aborted = 1;
        return abort_and_rewind(source, sink, "partitions were revoked", err);
    }
    if (source) {
        if ((rc = sl_ksrc_pending(source, &offs, err)) != SL_OK)
            goto out;
        if (offs->cnt > 0 && !(md = rd_kafka_consumer_group_metadata(sl_ksrc_consumer(source)))) {
            rc = sl_err_set(err, SL_EINTERNAL, "source 'kafka': no consumer group metadata");
            goto out;
        }
    }
    rc = sl_ksink_txn_commit(sink, offs, md, &abortable, err);
    if (rc == SL_OK && offs && offs->cnt > 0)
        sl_ksrc_committed(source, offs);
    if (rc != SL_OK && abortable) {
        char why[SL_ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err ? err->msg : "commit failed");
        *aborted = 1;
        rc = abort_and_rewind(source, sink, why, err);
    }
out:
    if (md)
        rd_kafka_consumer_group_metadata_destroy(md);
    if (offs)
        rd_kafka_topic_partition_list_destroy(offs);
    return rc;
}
