#!/usr/bin/env bash
# Smoke test of a Vigil image or a running deployment:
#   smoke.sh --image vigil:ci        run the image (read-only root, /data volume), then probe it
#   smoke.sh --url http://host:8080  probe a running deployment
# Probes: /health/live, /health/ready (retried until READY_SECONDS), one prediction of the demo model.
set -euo pipefail

READY_SECONDS="${READY_SECONDS:-90}"
MODEL="${SMOKE_MODEL:-iris}"
PAYLOAD="${SMOKE_PAYLOAD:-}"
if [ -z "$PAYLOAD" ]; then
  PAYLOAD='{"instances":[{"sepal_length":5.7,"sepal_width":3.0,"petal_length":4.25,"petal_width":1.3}]}'
fi
image=""
url=""
while [ $# -gt 0 ]; do
  case "$1" in
    --image) image="$2"; shift 2 ;;
    --url) url="${2%/}"; shift 2 ;;
    *) echo "usage: $0 --image IMAGE | --url URL" >&2; exit 2 ;;
  esac
done

container=""
cleanup() {
  if [ -n "$container" ]; then
    docker logs "$container" 2>&1 | tail -n 50 || true
    docker rm -f "$container" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

if [ -n "$image" ]; then
  port="${SMOKE_PORT:-18080}"
  container="$(docker run -d --read-only --tmpfs /tmp -v vigil-smoke-data:/data \
    -e ADMIN_TOKEN="smoke-$(date +%s)-not-a-secret" -e OTEL_TRACES_EXPORTER=none \
    -p "127.0.0.1:${port}:8080" "$image")"
  url="http://127.0.0.1:${port}"
fi
[ -n "$url" ] || { echo "usage: $0 --image IMAGE | --url URL" >&2; exit 2; }

echo "smoke: waiting for $url/health/ready (up to ${READY_SECONDS}s)"
deadline=$((SECONDS + READY_SECONDS))
until curl -fsS -o /dev/null "$url/health/ready" 2>/dev/null; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "smoke: FAILED: $url/health/ready not ready within ${READY_SECONDS}s" >&2
    curl -sS "$url/health/ready" >&2 || true
    exit 1
  fi
  sleep 2
done
curl -fsS -o /dev/null "$url/health/live"
echo "smoke: ready"

answer="$(curl -fsS -X POST -H 'content-type: application/json' --data "$PAYLOAD" "$url/v1/models/$MODEL/predict")"
echo "smoke: prediction: $answer"
case "$answer" in
  *'"predictions":[{'*'"label"'*) echo "smoke: OK" ;;
  *) echo "smoke: FAILED: unexpected prediction answer" >&2; exit 1 ;;
esac
