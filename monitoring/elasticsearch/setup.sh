#!/usr/bin/env bash
# One-shot, idempotent Elasticsearch setup for Vigil's logs (the `elasticsearch-setup` compose service):
#   1. wait until the cluster answers with status yellow or green;
#   2. PUT the ILM policy `vigil-logs` (ilm-policy.json) and the index template `logs-vigil`
#      (index-template.json): PUT replaces, so running it again changes nothing;
#   3. roll over any logs-vigil-* data stream that another template (the built-in `logs`) created
#      because logs were shipped before this ran, so that its next backing index gets our mappings.
#      Elasticsearch reports the template that matches a stream *now*, so that is read before the PUT.
# Exits non-zero, with Elasticsearch's answer, on any refusal.
#
# Environment: ELASTICSEARCH_URL (default http://localhost:9200), ELASTICSEARCH_AUTH (user:password,
# optional), SETUP_DIR (default: this script's folder), WAIT_SECONDS (default 180), POLL_SECONDS (default 2).
set -euo pipefail

ES_URL="${ELASTICSEARCH_URL:-http://localhost:9200}"
ES_URL="${ES_URL%/}"
SETUP_DIR="${SETUP_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
WAIT_SECONDS="${WAIT_SECONDS:-180}"
POLL_SECONDS="${POLL_SECONDS:-2}"
POLICY_NAME="vigil-logs"
TEMPLATE_NAME="logs-vigil"

curl_args=(--silent --show-error --max-time 30 -H "Content-Type: application/json")
if [ -n "${ELASTICSEARCH_AUTH:-}" ]; then
  curl_args+=(--user "$ELASTICSEARCH_AUTH")
fi

log() { printf '[elasticsearch-setup] %s\n' "$*"; }

# request METHOD PATH [BODY_FILE]: prints the body; fails (with the body) unless the status is 2xx.
request() {
  local method="$1" path="$2" body_file="${3:-}" out status
  out="$(mktemp)"
  if [ -n "$body_file" ]; then
    status="$(curl "${curl_args[@]}" -X "$method" -o "$out" -w '%{http_code}' --data-binary "@$body_file" "$ES_URL$path")"
  else
    status="$(curl "${curl_args[@]}" -X "$method" -o "$out" -w '%{http_code}' "$ES_URL$path")"
  fi
  if [ "${status:0:1}" != "2" ]; then
    log "FAILED: $method $path answered HTTP $status: $(cat "$out")" >&2
    rm -f "$out"
    return 1
  fi
  cat "$out"
  rm -f "$out"
}

for file in ilm-policy.json index-template.json; do
  if [ ! -s "$SETUP_DIR/$file" ]; then
    log "FAILED: $SETUP_DIR/$file is missing or empty" >&2
    exit 1
  fi
done

log "waiting for $ES_URL (up to ${WAIT_SECONDS}s)"
deadline=$((SECONDS + WAIT_SECONDS))
until curl "${curl_args[@]}" --fail -o /dev/null "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=5s" 2>/dev/null; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "FAILED: Elasticsearch at $ES_URL was not available within ${WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep "$POLL_SECONDS"
done

# Data streams that exist already: {"data_streams":[{"name":"logs-vigil-default","template":"logs"},…]}.
streams="$(request GET "/_data_stream/logs-vigil-*?filter_path=data_streams.name,data_streams.template&expand_wildcards=all")"
foreign=()
while IFS= read -r pair; do
  [ -n "$pair" ] || continue
  name="$(printf '%s' "$pair" | sed 's/^"name":"\([^"]*\)".*/\1/')"
  template="$(printf '%s' "$pair" | sed 's/.*"template":"\([^"]*\)"$/\1/')"
  if [ "$template" != "$TEMPLATE_NAME" ]; then
    foreign+=("$name")
    log "data stream $name was created by template $template"
  fi
done < <(printf '%s' "$streams" | tr -d ' \n' | grep -o '"name":"[^"]*","template":"[^"]*"' || true)

request PUT "/_ilm/policy/$POLICY_NAME" "$SETUP_DIR/ilm-policy.json" >/dev/null
log "ILM policy $POLICY_NAME installed"
request PUT "/_index_template/$TEMPLATE_NAME" "$SETUP_DIR/index-template.json" >/dev/null
log "index template $TEMPLATE_NAME installed"

for name in "${foreign[@]}"; do
  request POST "/$name/_rollover" >/dev/null
  log "data stream $name rolled over: its new write index uses $TEMPLATE_NAME"
done

log "done"
