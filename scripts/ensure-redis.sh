#!/usr/bin/env bash
# The throttling tests use the local Redis: start it if it is installed but down. Fails loudly.
set -euo pipefail
ping() { python3 - <<'PY'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", 6379), timeout=1)
    s.sendall(b"PING\r\n")
    sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PY
}
if ping; then exit 0; fi
if command -v redis-server >/dev/null 2>&1; then
  echo "Redis is down; starting it" >&2
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 20); do
    ping && exit 0
    sleep 0.5
  done
fi
echo "ERROR: Redis at 127.0.0.1:6379 cannot be reached; the throttling tests need it." >&2
exit 1
