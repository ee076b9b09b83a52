#!/usr/bin/env bash
# A real Apache Kafka 3.9.x for the integration tests and benchmarks: a
# single KRaft node (broker + controller) on 127.0.0.1, random free ports.
#
#   scripts/kafka.sh start      fetch the jars (once), format, start, wait until ready
#   scripts/kafka.sh stop       stop it and delete its data
#   scripts/kafka.sh kill       kill -9 (tests of broker loss), keeps the data
#   scripts/kafka.sh restart    start again on the same ports and data (after kill/stop-keep)
#   scripts/kafka.sh status     exit 0 when it answers
#   scripts/kafka.sh bootstrap  print host:port
#
# The jars come from Maven Central through scripts/kafka/pom.xml
# (`mvn dependency:copy-dependencies`) into $SLUICE_KAFKA_CACHE
# (default ~/.cache/sluice-kafka/<version>), ~50 MB, once per machine.
# Runtime state (data, logs, pid, ports) lives in $SLUICE_KAFKA_DIR
# (default /tmp/sluice-kafka-$USER); the bootstrap address is written to
# $SLUICE_KAFKA_DIR/bootstrap.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
VERSION="${KAFKA_VERSION:-3.9.1}"
CACHE="${SLUICE_KAFKA_CACHE:-$HOME/.cache/sluice-kafka}/$VERSION"
DIR="${SLUICE_KAFKA_DIR:-/tmp/sluice-kafka-${USER:-$(id -u)}}"
HEAP="${SLUICE_KAFKA_HEAP:-512m}"

log() { echo "kafka.sh: $*" >&2; }

fetch() {
  [ -f "$CACHE/.complete" ] && return 0
  command -v mvn >/dev/null || { log "maven is missing: run scripts/setup.sh"; exit 1; }
  log "fetching Apache Kafka $VERSION from Maven Central into $CACHE"
  rm -rf "$CACHE/lib"
  mkdir -p "$CACHE"
  mvn -q -B -f "$HERE/kafka/pom.xml" -Dkafka.version="$VERSION" \
    dependency:copy-dependencies -DoutputDirectory="$CACHE/lib" >&2
  touch "$CACHE/.complete"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

kjava() { java -Xmx"$HEAP" -Dlog4j.configuration="file:$DIR/log4j.properties" -cp "$CACHE/lib/*" "$@"; }

running() { [ -f "$DIR/pid" ] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null; }

answers() {
  local bs
  bs="$(cat "$DIR/bootstrap" 2>/dev/null)" || return 1
  # a broker that lists itself in metadata is up
  timeout 5 kcat -L -b "$bs" -m 3 2>/dev/null | grep -q "broker 1 at"
}

write_config() {
  local bport="$1" cport="$2"
  cat > "$DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$bport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$bport
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DIR/data
num.partitions=4
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=268435456
EOF
  cat > "$DIR/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$DIR/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
EOF
  echo "127.0.0.1:$bport" > "$DIR/bootstrap"
}

launch() {
  : > "$DIR/kafka.out"
  nohup java -Xmx"$HEAP" -Dlog4j.configuration="file:$DIR/log4j.properties" \
    -cp "$CACHE/lib/*" kafka.Kafka "$DIR/server.properties" >> "$DIR/kafka.out" 2>&1 &
  echo $! > "$DIR/pid"
  for _ in $(seq 1 120); do
    if answers; then
      log "Kafka $VERSION up at $(cat "$DIR/bootstrap") (pid $(cat "$DIR/pid"), dir $DIR)"
      return 0
    fi
    if ! running; then
      log "Kafka exited during startup; last lines of $DIR/kafka.out and server.log:"
      tail -n 20 "$DIR/kafka.out" "$DIR/server.log" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 0.5
  done
  log "Kafka did not answer within 60 s (see $DIR/server.log)"
  exit 1
}

start() {
  if running && answers; then
    log "already running at $(cat "$DIR/bootstrap")"
    return 0
  fi
  fetch
  rm -rf "$DIR"
  mkdir -p "$DIR/data"
  write_config "$(free_port)" "$(free_port)"
  local id
  id="$(kjava kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
  kjava kafka.tools.StorageTool format -t "$id" -c "$DIR/server.properties" > "$DIR/format.out" 2>&1 ||
    { log "format failed:"; cat "$DIR/format.out" >&2; exit 1; }
  launch
}

restart() {
  running && { log "already running"; return 0; }
  [ -f "$DIR/server.properties" ] || { log "nothing to restart: use start"; exit 1; }
  launch
}

stop() {
  local keep="${1:-}"
  if running; then
    local pid
    pid="$(cat "$DIR/pid")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$DIR/pid"
  [ -n "$keep" ] || rm -rf "$DIR"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  stop-keep) stop keep ;;
  kill)
    running && kill -9 "$(cat "$DIR/pid")" && log "killed (kill -9)"
    rm -f "$DIR/pid" ;;
  restart) restart ;;
  status) running && answers ;;
  bootstrap) cat "$DIR/bootstrap" ;;
  fetch) fetch ;;
  *) echo "usage: $0 start|stop|stop-keep|kill|restart|status|bootstrap|fetch" >&2; exit 2 ;;
esac
