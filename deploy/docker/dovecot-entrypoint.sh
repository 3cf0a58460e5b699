#!/bin/sh
# Starts Dovecot in docker-compose.yml as DOVECOT_ROLE says:
#   destination  our server: a CA and a certificate for the name "dovecot"
#                in /etc/dovecot/tls (a volume Trasloco reads the CA from),
#                and the master user TRASLOCO_DEST_MASTER_USER with the
#                password TRASLOCO_DEST_MASTER_PASSWORD (the variables
#                Trasloco reads too).
#   old-server   the demo customer's old server: a self-signed certificate.
set -eu

role=${DOVECOT_ROLE:?set DOVECOT_ROLE to destination or old-server}
tls=/etc/dovecot/tls
mkdir -p "$tls" /srv/mail /etc/dovecot/users
chown vmail:vmail /srv/mail

# cert NAME...: a CA (ca.pem) and a server certificate for the names, once.
cert() {
	[ -s "$tls/server.pem" ] && return 0
	tmp=$(mktemp -d)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
		-subj "/CN=Trasloco compose CA" -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=$1" -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
	san=""
	for n in "$@"; do san="${san:+$san,}DNS:$n"; done
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" >"$tmp/ext"
	openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
		-days 3650 -extfile "$tmp/ext" -out "$tmp/server.crt" 2>/dev/null
	cat "$tmp/server.crt" "$tmp/ca.pem" >"$tmp/server.pem"
	chmod 0644 "$tmp/ca.pem" "$tmp/server.pem"
	chmod 0600 "$tmp/server.key"
	mv "$tmp/ca.pem" "$tmp/server.key" "$tls/"
	mv "$tmp/server.pem" "$tls/server.pem" # last: its presence means done
	rm -rf "$tmp"
}

case "$role" in
destination)
	cert dovecot localhost
	user=${TRASLOCO_DEST_MASTER_USER:?set TRASLOCO_DEST_MASTER_USER}
	pass=${TRASLOCO_DEST_MASTER_PASSWORD:?set TRASLOCO_DEST_MASTER_PASSWORD}
	printf '%s:%s::::::\n' "$user" "$(doveadm -O pw -s SHA512-CRYPT -p "$pass")" >/etc/dovecot/master-users
	chown root:dovecot /etc/dovecot/master-users
	chmod 0640 /etc/dovecot/master-users
	conf=/etc/dovecot/trasloco/compose-destination.conf
	;;
old-server)
	cert mail.vecchiaposta.test localhost
	conf=/etc/dovecot/trasloco/compose-old-server.conf
	;;
*)
	echo "dovecot-entrypoint: DOVECOT_ROLE=$role: want destination or old-server" >&2
	exit 2
	;;
esac
exec dovecot -F -c "$conf"
