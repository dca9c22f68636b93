#!/usr/bin/env bash
# Starts N ranks of a cargovision training app on this machine, as torchrun --nproc_per_node N would:
#   scripts/launch.sh N APP [APP OPTIONS...]      e.g.  scripts/launch.sh 2 build/bin/train_ocr --config c.json
# Each rank gets RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (127.0.0.1 and a free port
# unless set). For several machines run it on each with NNODES, NODE_RANK and MASTER_ADDR set (MASTER_ADDR:
# the first machine's address, the same MASTER_PORT everywhere): ranks NODE_RANK*N ... NODE_RANK*N+N-1.
# The threads of the machine are shared out among the local ranks (OMP_NUM_THREADS) unless set.
# Ctrl-C reaches every rank (they stop together at the same iteration and rank 0 saves); when a rank
# fails the others are stopped, and the launcher exits with the first failing rank's status.
set -uo pipefail
if [[ $# -lt 2 || ! "$1" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/launch.sh N APP [OPTIONS...]   (N local ranks; NNODES, NODE_RANK, MASTER_ADDR, MASTER_PORT for several machines)" >&2
  exit 2
fi
local_ranks=$1
shift
nodes=${NNODES:-1}
node_rank=${NODE_RANK:-0}
if (( node_rank >= nodes )); then echo "launch: NODE_RANK=$node_rank is not below NNODES=$nodes" >&2; exit 2; fi
export WORLD_SIZE=$((local_ranks * nodes))
export MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
if [[ -z "${MASTER_PORT:-}" ]]; then
  (( nodes == 1 )) || { echo "launch: set MASTER_PORT (the same on every machine)" >&2; exit 2; }
  # A free port: one nothing listens on (bash's /dev/tcp fails to connect to it).
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  done
  export MASTER_PORT=$port
fi
if [[ -z "${OMP_NUM_THREADS:-}" ]]; then
  threads=$(( $(nproc) / local_ranks ))
  export OMP_NUM_THREADS=$(( threads > 0 ? threads : 1 ))
fi

pids=()
for ((local_rank = 0; local_rank < local_ranks; ++local_rank)); do
  # A session of its own: Ctrl-C at the terminal reaches the launcher only, which passes exactly one
  # SIGINT on (a second one would stop a rank at once, without saving).
  RANK=$((node_rank * local_ranks + local_rank)) LOCAL_RANK=$local_rank setsid "$@" &
  pids+=($!)
  echo "launch: rank $((node_rank * local_ranks + local_rank)) of $WORLD_SIZE is pid $!" >&2
done

forward() { kill -s "$1" "${pids[@]}" 2>/dev/null; }
trap 'forward INT' INT
trap 'forward TERM' TERM

status=0
running=("${pids[@]}")
while (( ${#running[@]} > 0 )); do
  unset finished
  wait -n -p finished "${running[@]}"
  code=$?
  [[ -n "${finished:-}" ]] || continue  # woken by a trapped signal: wait again
  still=()
  for pid in "${running[@]}"; do [[ "$pid" == "$finished" ]] || still+=("$pid"); done
  running=("${still[@]}")
  if (( code != 0 && status == 0 )); then
    status=$code
    # 130: stopped by Ctrl-C with the others; anything else is a failure they will notice.
    (( code == 130 )) || echo "launch: pid $finished exited with status $code; the other ranks stop within their timeout" >&2
    # They fail on their next collective; should one be stuck elsewhere, it is stopped after 60 s.
    ( sleep 60; kill -TERM "${pids[@]}" 2>/dev/null ) &
    watchdog=$!
  fi
done
[[ -z "${watchdog:-}" ]] || kill "$watchdog" 2>/dev/null
exit "$status"
