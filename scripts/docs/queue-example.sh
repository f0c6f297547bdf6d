#!/usr/bin/env bash
# The README's "Running on several machines" transcript, for real: a private Redis on a free loopback port, two
# `robot-nas worker` processes, a search submitted with --queue, and `queue status` — all on this machine (the
# same commands work across machines with the Redis host's address). Prints the transcript; stops everything on exit.
#   bash scripts/docs/queue-example.sh > /tmp/queue-example.txt
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cli="node $repo/bin/robot-nas.js"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
port="$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
redis-server --port "$port" --bind 127.0.0.1 --dir "$work" --save '' --appendonly no --maxmemory-policy noeviction --logfile "$work/redis.log" &
pids+=($!)
for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
url="redis://127.0.0.1:$port"
shown='redis://HOST:6379'
show() { sed -e "s#$url#$shown#g" -e "s#$work#/work#g" -e 's#[0-9][0-9]:[0-9][0-9]:[0-9][0-9] #hh:mm:ss #'; }

cd "$work"
for n in a b; do
  $cli worker --queue "$url" --concurrency 1 --name "machine-$n" > "$work/worker-$n.log" 2>&1 &
  pids+=($!)
done
sleep 3
echo "\$ npx robot-nas worker --queue $shown --concurrency 1 --name machine-a      # on machine A (and -b on machine B)"
head -1 "$work/worker-a.log" | show
echo
args=(search --pool 40 --budget 6 --parallel 2 --seed 1)
echo "\$ npx robot-nas ${args[*]} --queue $shown"
$cli "${args[@]}" --queue "$url" 2>&1 | show
echo
echo "\$ npx robot-nas queue status --queue $shown"
$cli queue status --queue "$url" 2>&1 | show
