#!/usr/bin/env bash
# redis-server under the heap, on 127.0.0.1:$BENCH_PORT only, no persistence.
# Loads a deterministic data set (keys det:*), drives the server with a
# bounded redis-benchmark run, then reads the deterministic keys back; that
# read-back is the answer compared with the reference.  The benchmark's own
# results must show every test completed.
# (Debian's redis-server links jemalloc; under LD_PRELOAD its malloc, free,
# calloc, realloc and malloc_usable_size resolve to the preloaded heap.)
source "$(dirname "$0")/lib.sh"
PORT=${BENCH_PORT:?BENCH_PORT not set}
CLI=(redis-cli -h 127.0.0.1 -p "$PORT")
make_input() {
  "$PY" - "$(scaled 30000 1000)" > "$W/load.resp" <<'GEN'
import sys
n = int(sys.argv[1])
def cmd(*a):
    s = "*%d\r\n" % len(a) + "".join("$%d\r\n%s\r\n" % (len(x), x) for x in a)
    sys.stdout.write(s)
for i in range(n):
    cmd("SET", "det:%d" % i, ("v%d-" % i) * (1 + (i * 7919) % 300))
    if i % 10 == 0:
        cmd("RPUSH", "detlist:%d" % (i % 50), "item-%d" % i)
        cmd("HSET", "dethash:%d" % (i % 30), "f%d" % i, "x" * (i % 64))
for i in range(0, n, 3):
    cmd("DEL", "det:%d" % i)
GEN
  "$PY" - "$(scaled 30000 1000)" > "$W/readback.txt" <<'GEN'
import sys
n = int(sys.argv[1])
for i in range(1, n, max(1, n // 300)):
    print("STRLEN det:%d" % i)
print("MGET " + " ".join("det:%d" % i for i in range(0, n, max(1, n // 40))))
for j in range(0, 50, 7):
    print("LRANGE detlist:%d 0 -1" % j)
for j in range(0, 30, 5):
    print("HLEN dethash:%d" % j)
GEN
}
# The server is the program under test: if it is gone, report how it ended
# (a signal is a crash, the shell's 128+N), not the client's complaint.
# Alive = exists and is not a zombie (kill -0 succeeds on an unreaped zombie).
alive() { local st; st=$(awk '{print $3}' "/proc/$SERVER/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]; }
server_died() {
  local rc=0
  wait $SERVER || rc=$?
  echo "redis-server died $1 (status $rc): $(tail -2 "$W/redis.log" | tr '\n' ' ')" >&2
  exit $(( rc > 128 ? rc : 1 ))
}
run_it() {
  under_test redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize no --protected-mode yes --dir "$W" --logfile "$W/redis.log" &
  SERVER=$!
  trap 'kill $SERVER 2>/dev/null || true' EXIT
  local i
  for i in $(seq 200); do
    [ "$("${CLI[@]}" ping 2>/dev/null)" = PONG ] && break
    alive || server_died "on start"
    sleep 0.05
  done
  "${CLI[@]}" --pipe < "$W/load.resp" > "$W/load.log" || true
  alive || server_died "while loading"
  grep -q 'errors: 0' "$W/load.log" || wrong "loading failed: $(tail -2 "$W/load.log")"
  redis-benchmark -h 127.0.0.1 -p "$PORT" -n "$(scaled 60000 2000)" -r 20000 -d 200 -c 8 -P 4 -q \
      -t set,get,incr,lpush,rpop,sadd,hset,lrange_100,mset > "$W/bench.txt" 2>&1 || true
  "${CLI[@]}" --raw < "$W/readback.txt" > "$W/out" || true
  alive || server_died "during the run"
  "${CLI[@]}" shutdown nosave >/dev/null 2>&1 || true
  wait $SERVER || true
  trap - EXIT
  local done; done=$(tr '\r' '\n' < "$W/bench.txt" | grep -c 'requests per second' || true)
  [ "$done" -ge 9 ] || wrong "redis-benchmark completed $done of 9 tests: $(tr '\r' '\n' < "$W/bench.txt" | tail -2)"
}
real_main "$@"
