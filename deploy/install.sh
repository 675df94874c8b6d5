#!/usr/bin/env bash
# Installs the council platform for production on Debian: nginx site (TLS), systemd units (N daphne
# processes on unix sockets, the job worker, timers for releases, announcements and the nightly
# backup), the environment file, PostgreSQL database and role. Safe to re-run: files are rewritten
# from the templates in deploy/, while the environment file, the secret key and the TLS
# certificate, once made, are kept.
#
#   sudo deploy/install.sh --host gikai.example.jp --processes 4
#
# Options (defaults in brackets):
#   --host NAME            the platform's host name (required)
#   --processes N          daphne processes, one per core [number of cores]
#   --tls-cert F --tls-key F  certificate and key [a self-signed pair made once in /etc/gikai/tls]
#   --database-url URL     [postgres:///gikai: local PostgreSQL, peer authentication as the service user]
#   --redis-url URL        [redis://127.0.0.1:6379/0]
#   --user NAME            service user [gikai]
#   --data-dir DIR         var/, media/ and backups/ under it [/srv/gikai]
#   --http-port P --https-port P   [80, 443]
#   --upload-max-bytes N   [209715200]
#   --prefix DIR           write every file under DIR instead of /, and start nothing: packages,
#                          users, the database and systemctl are left alone; nginx -t is run on the
#                          result with a main configuration of its own (used by the tests)
set -euo pipefail
APP_DIR="$(cd "$(dirname "$0")/.." && pwd)"
DEPLOY="$APP_DIR/deploy"

HOST="" PROCESSES="$(nproc)" TLS_CERT="" TLS_KEY="" DATABASE_URL="postgres:///gikai"
REDIS_URL="redis://127.0.0.1:6379/0" SERVICE_USER="gikai" DATA_DIR="/srv/gikai" HTTP_PORT=80 HTTPS_PORT=443
UPLOAD_MAX_BYTES=209715200 PREFIX="/" SOCKET_DIR="/run/gikai" MEDIA_ROOT="" STATIC_ROOT="$APP_DIR/staticfiles"
while [ $# -gt 0 ]; do
  case "$1" in
    --host) HOST="$2"; shift 2 ;;
    --processes) PROCESSES="$2"; shift 2 ;;
    --tls-cert) TLS_CERT="$2"; shift 2 ;;
    --tls-key) TLS_KEY="$2"; shift 2 ;;
    --database-url) DATABASE_URL="$2"; shift 2 ;;
    --redis-url) REDIS_URL="$2"; shift 2 ;;
    --user) SERVICE_USER="$2"; shift 2 ;;
    --data-dir) DATA_DIR="$2"; shift 2 ;;
    --media-root) MEDIA_ROOT="$2"; shift 2 ;;
    --socket-dir) SOCKET_DIR="$2"; shift 2 ;;
    --http-port) HTTP_PORT="$2"; shift 2 ;;
    --https-port) HTTPS_PORT="$2"; shift 2 ;;
    --upload-max-bytes) UPLOAD_MAX_BYTES="$2"; shift 2 ;;
    --prefix) PREFIX="$2"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$HOST" ] || { echo "install.sh: --host is required" >&2; exit 2; }
[[ "$PROCESSES" =~ ^[1-9][0-9]*$ ]] || { echo "install.sh: --processes must be a positive number" >&2; exit 2; }
[[ "$HOST" =~ ^[A-Za-z0-9.-]+$ ]] || { echo "install.sh: --host must be a plain host name" >&2; exit 2; }

LIVE=1
if [ "$PREFIX" != "/" ]; then LIVE=0; PREFIX="$(mkdir -p "$PREFIX" && cd "$PREFIX" && pwd)"; else PREFIX=""; fi
if [ "$LIVE" = 1 ] && [ "$(id -u)" != 0 ]; then echo "install.sh: run as root (or give --prefix)" >&2; exit 1; fi
GROUP="$SERVICE_USER"
VAR_DIR="$DATA_DIR/var"; BACKUP_DIR="$DATA_DIR/backups"; MEDIA_ROOT="${MEDIA_ROOT:-$DATA_DIR/media}"
ETC="$PREFIX/etc/gikai"; ENV_FILE="$ETC/gikai.env"
NGINX_DIR="$PREFIX/etc/nginx"; UNIT_DIR="$PREFIX/etc/systemd/system"
LOG_DIR="$PREFIX/var/log/nginx/gikai"; STATE_DIR="$PREFIX/var/lib/nginx/gikai"
if [ "$LIVE" = 0 ]; then
  # A scratch install: data and sockets live under the prefix too, unless given.
  [ "$DATA_DIR" = /srv/gikai ] && { DATA_DIR="$PREFIX/srv/gikai"; VAR_DIR="$DATA_DIR/var"; BACKUP_DIR="$DATA_DIR/backups";
                                    [ "$MEDIA_ROOT" = /srv/gikai/media ] && MEDIA_ROOT="$DATA_DIR/media"; }
  [ "$SOCKET_DIR" = /run/gikai ] && SOCKET_DIR="$PREFIX/run/gikai"
  GROUP="$(id -gn)"; SERVICE_USER="$(id -un)"
fi
say() { echo "install.sh: $*"; }

# --- Packages, user, database (a real install only) -----------------------------------------------
if [ "$LIVE" = 1 ]; then
  bash "$APP_DIR/scripts/setup.sh"
  debs=(nginx openssl postgresql redis-server)
  missing=()
  for p in "${debs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  id -u "$SERVICE_USER" >/dev/null 2>&1 || useradd --system --user-group --home-dir "$DATA_DIR" --shell /usr/sbin/nologin "$SERVICE_USER"
  id -nG www-data | grep -qw "$GROUP" || usermod -aG "$GROUP" www-data  # nginx reaches the sockets and documents
  if [ "$DATABASE_URL" = "postgres:///gikai" ]; then
    systemctl enable --now postgresql >/dev/null 2>&1 || true
    su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$SERVICE_USER'\"" | grep -q 1 \
      || su postgres -c "createuser '$SERVICE_USER'"
    su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='gikai'\"" | grep -q 1 \
      || su postgres -c "createdb -O '$SERVICE_USER' gikai"
  fi
  systemctl enable --now redis-server >/dev/null 2>&1 || true
fi

install -d -m 0750 "$ETC" "$DATA_DIR" "$VAR_DIR" "$MEDIA_ROOT" "$BACKUP_DIR"
install -d -m 0755 "$NGINX_DIR/sites-available" "$NGINX_DIR/sites-enabled" "$UNIT_DIR" "$PREFIX/etc/tmpfiles.d" \
  "$LOG_DIR" "$STATE_DIR"
install -d -m 0770 "$SOCKET_DIR"

# --- TLS: the given pair, or a self-signed one made once (replace it with a real certificate) -------
if [ -z "$TLS_CERT" ]; then
  TLS_CERT="$ETC/tls/$HOST.crt"; TLS_KEY="$ETC/tls/$HOST.key"
  if [ ! -s "$TLS_CERT" ] || [ ! -s "$TLS_KEY" ]; then
    install -d -m 0750 "$ETC/tls"
    say "making a self-signed certificate for $HOST (replace it: --tls-cert/--tls-key, e.g. from certbot)"
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=$HOST" -addext "subjectAltName=DNS:$HOST" \
      -keyout "$TLS_KEY" -out "$TLS_CERT" 2>/dev/null
    chmod 0600 "$TLS_KEY"
  fi
fi

# --- The environment file: written once, kept on re-runs (it holds the secret key) --------------
if [ ! -s "$ENV_FILE" ]; then
  SECRET_KEY="$(openssl rand -base64 48 | tr -d '\n/+=' | cut -c1-60)"
  python3 "$DEPLOY/render.py" "$DEPLOY/gikai.env.in" SECRET_KEY="$SECRET_KEY" HOST="$HOST" HTTPS_PORT="$HTTPS_PORT" \
    DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL" VAR_DIR="$VAR_DIR" MEDIA_ROOT="$MEDIA_ROOT" \
    BACKUP_DIR="$BACKUP_DIR" UPLOAD_MAX_BYTES="$UPLOAD_MAX_BYTES" > "$ENV_FILE.new"
  chmod 0640 "$ENV_FILE.new" && mv "$ENV_FILE.new" "$ENV_FILE"
  say "wrote $ENV_FILE (edit e-mail settings there)"
else
  say "keeping $ENV_FILE"
fi
# nginx's upload limit follows the environment file's.
UPLOAD_MAX_BYTES="$(sed -n 's/^COUNCIL_UPLOAD_MAX_BYTES=//p' "$ENV_FILE" | tail -1)"

# --- nginx site and systemd units, from the templates --------------------------------------------
values=(HOST="$HOST" PROCESSES="$PROCESSES" SOCKET_DIR="$SOCKET_DIR" HTTP_PORT="$HTTP_PORT" HTTPS_PORT="$HTTPS_PORT"
        TLS_CERT="$TLS_CERT" TLS_KEY="$TLS_KEY" STATIC_ROOT="$STATIC_ROOT" MEDIA_ROOT="$MEDIA_ROOT"
        UPLOAD_MAX_BYTES="$UPLOAD_MAX_BYTES" LOG_DIR="$LOG_DIR" STATE_DIR="$STATE_DIR" USER="$SERVICE_USER"
        GROUP="$GROUP" ENV_FILE="$ENV_FILE" APP_DIR="$APP_DIR" VAR_DIR="$VAR_DIR" BACKUP_DIR="$BACKUP_DIR")
python3 "$DEPLOY/render.py" "$DEPLOY/nginx/gikai.conf.in" "${values[@]}" > "$NGINX_DIR/sites-available/gikai.conf"
ln -sfn ../sites-available/gikai.conf "$NGINX_DIR/sites-enabled/gikai.conf"
for template in "$DEPLOY"/systemd/*.in; do
  name="$(basename "$template" .in)"
  case "$name" in
    *.tmpfiles) python3 "$DEPLOY/render.py" "$template" "${values[@]}" > "$PREFIX/etc/tmpfiles.d/gikai.conf" ;;
    *) python3 "$DEPLOY/render.py" "$template" "${values[@]}" > "$UNIT_DIR/$name" ;;
  esac
done
say "wrote the nginx site and the systemd units for $PROCESSES daphne processes"

if [ "$LIVE" = 0 ]; then
  # A main configuration of its own around the site (nginx -p PREFIX -c PREFIX/etc/nginx/nginx.conf).
  cat > "$NGINX_DIR/nginx.conf" <<CONF
user $(id -un) $(id -gn);
worker_processes 1;
pid $STATE_DIR/nginx.pid;
error_log $LOG_DIR/error.log warn;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    client_body_temp_path $STATE_DIR/client_body;
    proxy_temp_path $STATE_DIR/proxy;
    fastcgi_temp_path $STATE_DIR/fastcgi;
    uwsgi_temp_path $STATE_DIR/uwsgi;
    scgi_temp_path $STATE_DIR/scgi;
    include $NGINX_DIR/sites-enabled/*.conf;
}
CONF
  nginx -t -q -p "$PREFIX" -c "$NGINX_DIR/nginx.conf"
  say "scratch install in $PREFIX: nginx -t passed; nothing started"
  exit 0
fi

# --- A real install: ownership, database schema, static files, services ---------------------------
chown -R "$SERVICE_USER:$GROUP" "$DATA_DIR" "$SOCKET_DIR"
chown root:"$GROUP" "$ETC" "$ENV_FILE"
systemd-tmpfiles --create "$PREFIX/etc/tmpfiles.d/gikai.conf"
run_as() { su -s /bin/sh "$SERVICE_USER" -c "set -a; . '$ENV_FILE'; set +a; cd '$APP_DIR' && $*"; }
run_as ".venv/bin/python manage.py migrate --noinput -v0"
run_as "umask 077 && .venv/bin/python manage.py make_keys"  # kept when present
(set -a; . "$ENV_FILE"; set +a; cd "$APP_DIR" && .venv/bin/python manage.py collectstatic --noinput -v0)
run_as ".venv/bin/python manage.py check --deploy --fail-level ERROR"
systemctl daemon-reload
# Exactly N daphne processes: stop any beyond N left by an earlier install with more.
for unit in $(systemctl list-units --all --plain --no-legend 'gikai-daphne@*.service' | awk '{print $1}'); do
  n="${unit#gikai-daphne@}"; n="${n%.service}"
  if [ "$n" -gt "$PROCESSES" ]; then systemctl disable --now "$unit"; fi
done
daphnes=(); for i in $(seq 1 "$PROCESSES"); do daphnes+=("gikai-daphne@$i.service"); done
systemctl enable gikai.target gikai-worker.service gikai-release.timer gikai-announce.timer gikai-backup.timer "${daphnes[@]}"
systemctl restart "${daphnes[@]}" gikai-worker.service
systemctl start gikai.target
nginx -t -q && systemctl reload-or-restart nginx
say "done. Check: curl -fsS https://$HOST/healthz ; see the README's production section"
