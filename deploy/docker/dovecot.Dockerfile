# Dovecot for docker-compose.yml, from Debian's package (the one make dev and
# the tests run): DOVECOT_ROLE=destination is our server with the master
# user, DOVECOT_ROLE=old-server the demo customer's old server. Build context:
# the repository root.
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dovecot-imapd openssl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 5000 --user-group --home-dir /srv/mail --no-create-home vmail
COPY deploy/dovecot/ /etc/dovecot/trasloco/
COPY deploy/docker/dovecot-entrypoint.sh /usr/local/bin/dovecot-entrypoint
EXPOSE 143 993
ENTRYPOINT ["/usr/local/bin/dovecot-entrypoint"]
