/*
 * The Kafka Streams peer of bench/stream/run.sh: sluice's benchmark job,
 * written the way a Kafka Streams user would write it.
 *
 *   in topic (JSON {"id","user","amount","qty","kind"})
 *     -> keep amount > 10 and kind != 'view'
 *     -> add unit_price = amount / qty (null when qty is 0, as in sluice),
 *            big = amount > 50
 *     -> out topic (the input object plus the two fields, same key)
 *
 * Keys and values travel as bytes; the value is parsed and written with
 * Jackson's tree model. The producer uses lz4, acks=all and idempotence,
 * offsets are committed every second, at_least_once unless
 * `--guarantee exactly_once_v2`.
 *
 *   java -jar sluice-bench-kstreams.jar --bootstrap HOST:PORT --in T --out T
 *        --app-id ID [--threads 2] [--guarantee at_least_once|exactly_once_v2]
 *        [--max-records N] [--reset earliest|latest] [--state-dir DIR]
 *   java -jar sluice-bench-kstreams.jar --bootstrap HOST:PORT
 *        --create-topic T [--partitions 4] [--config key=value]...
 *
 * With --max-records N the job stops once N input records went through the
 * topology, closes (which flushes the producer and commits) and exits, so
 * its wall time compares with `sluice run --stream --max-records N`.
 * Without it, it runs until SIGTERM/SIGINT. The last line on stdout
 * summarises the run. --create-topic is the benchmark's admin helper (the
 * latency run needs output topics with LogAppendTime, which kcat cannot
 * create).
 */
package dev.sluice.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

public final class StreamJob {
    private static final ObjectMapper JSON = new ObjectMapper();

    private StreamJob() {}

    /* The job, one record: the output value, or null when the record is
     * filtered out. A value that is not a JSON object is dropped too (sluice
     * would dead-letter it; the benchmark input has none). */
    static byte[] transform(byte[] value) {
        JsonNode node;
        try {
            node = JSON.readTree(value);
        } catch (IOException e) {
            return null;
        }
        if (!(node instanceof ObjectNode o))
            return null;
        JsonNode amount = o.get("amount"), qty = o.get("qty"), kind = o.get("kind");
        // null compares as unknown, and a filter keeps only true (as in sluice)
        if (amount == null || !amount.isNumber() || kind == null || !kind.isTextual())
            return null;
        double a = amount.doubleValue();
        if (!(a > 10) || kind.textValue().equals("view"))
            return null;
        if (qty != null && qty.isNumber() && qty.doubleValue() != 0)
            o.put("unit_price", a / qty.doubleValue());
        else
            o.putNull("unit_price");
        o.put("big", a > 50);
        try {
            return JSON.writeValueAsBytes(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static void main(String[] argv) throws Exception {
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null)
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        Map<String, String> opt = new HashMap<>();
        List<String> configs = new ArrayList<>();
        for (int i = 0; i < argv.length; i++) {
            String k = argv[i];
            if (!k.startsWith("--") || i + 1 >= argv.length)
                usage("bad argument: " + k);
            if (k.equals("--config"))
                configs.add(argv[++i]);
            else
                opt.put(k.substring(2), argv[++i]);
        }
        String bootstrap = need(opt, "bootstrap");
        if (opt.containsKey("create-topic"))
            createTopic(bootstrap, opt.get("create-topic"),
                        Integer.parseInt(opt.getOrDefault("partitions", "4")), configs);
        else
            System.exit(run(bootstrap, opt));
    }

    private static int run(String bootstrap, Map<String, String> opt) throws InterruptedException {
        String in = need(opt, "in"), out = need(opt, "out");
        int threads = Integer.parseInt(opt.getOrDefault("threads", "2"));
        String guarantee = opt.getOrDefault("guarantee", StreamsConfig.AT_LEAST_ONCE);
        long max = Long.parseLong(opt.getOrDefault("max-records", "0"));

        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, need(opt, "app-id"));
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 1000); // exactly_once_v2 defaults to 100
        p.put(StreamsConfig.STATE_DIR_CONFIG,
              opt.getOrDefault("state-dir", System.getProperty("java.io.tmpdir") + "/kafka-streams"));
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG),
              opt.getOrDefault("reset", "earliest"));
        p.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
        p.put(StreamsConfig.producerPrefix(ProducerConfig.ACKS_CONFIG), "all");
        p.put(StreamsConfig.producerPrefix(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG), true);

        AtomicLong seen = new AtomicLong(), written = new AtomicLong(), firstNs = new AtomicLong();
        CountDownLatch stop = new CountDownLatch(1);
        StreamsBuilder b = new StreamsBuilder();
        b.stream(in, Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()))
            .peek((k, v) -> {
                long n = seen.incrementAndGet();
                if (n == 1)
                    firstNs.set(System.nanoTime());
                // the record is processed to the end before its thread can
                // see the close, so all N are in the output
                if (n == max)
                    stop.countDown();
            })
            .mapValues(StreamJob::transform)
            .filter((k, v) -> v != null)
            .peek((k, v) -> written.incrementAndGet())
            .to(out, Produced.with(Serdes.ByteArray(), Serdes.ByteArray()));

        KafkaStreams streams = new KafkaStreams(b.build(), p);
        AtomicLong failed = new AtomicLong();
        streams.setUncaughtExceptionHandler(e -> {
            e.printStackTrace();
            failed.set(1);
            stop.countDown();
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.countDown();
            try {
                closed.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        long t0 = System.nanoTime();
        streams.start();
        stop.await();
        long tStop = System.nanoTime();
        boolean clean = streams.close(Duration.ofSeconds(60));
        long tEnd = System.nanoTime();
        long first = firstNs.get() == 0 ? tEnd : firstNs.get();
        System.out.printf("kstreams: %d in, %d out, threads %d, %s; start to first record %.2f s, "
                              + "first record to stop %.2f s, close %.2f s%n",
                          seen.get(), written.get(), threads, guarantee, (first - t0) / 1e9,
                          (tStop - first) / 1e9, (tEnd - tStop) / 1e9);
        System.out.flush();
        closed.countDown(); // after the summary: on SIGTERM the JVM halts once the hook returns
        return failed.get() != 0 || !clean ? 1 : 0;
    }

    private static void createTopic(String bootstrap, String name, int partitions, List<String> configs)
        throws Exception {
        Map<String, String> conf = new HashMap<>();
        for (String kv : configs) {
            int eq = kv.indexOf('=');
            if (eq <= 0)
                usage("--config expects key=value, got " + kv);
            conf.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1).configs(conf)))
                .all()
                .get(60, TimeUnit.SECONDS);
        }
    }

    private static String need(Map<String, String> opt, String key) {
        String v = opt.get(key);
        if (v == null)
            usage("--" + key + " is required");
        return v;
    }

    private static void usage(String why) {
        System.err.println("StreamJob: " + why);
        System.err.println("usage: --bootstrap HOST:PORT --in TOPIC --out TOPIC --app-id ID [--threads N]"
                           + " [--guarantee at_least_once|exactly_once_v2] [--max-records N]"
                           + " [--reset earliest|latest] [--state-dir DIR]");
        System.err.println("       --bootstrap HOST:PORT --create-topic TOPIC [--partitions N] [--config k=v]...");
        System.exit(2);
    }
}
