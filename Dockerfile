# syntax=docker/dockerfile:1
#
# Trasloco: one static binary on a distroless base (CA certificates and
# /etc/passwd, no shell), running as an unprivileged user.
#
#   docker build -t trasloco .                 # the trasloco image (default target)
#   docker build --target demo -t trasloco-demo .   # trasloco-dev, for docker-compose.yml's demo service
#
# The same image runs every subcommand: serve (the default), worker,
# migrate, admin, copy, check. Configuration comes from the environment, as
# everywhere (see the README's table and deploy/README.md).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# CGO off: a static binary. timetzdata: tenants' time zones (Europe/Rome…)
# work without the system's zoneinfo.
ENV CGO_ENABLED=0
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -tags timetzdata -ldflags "-s -w" -o /out/trasloco ./cmd/trasloco \
 && go build -trimpath -tags timetzdata -ldflags "-s -w" -o /out/trasloco-dev ./cmd/trasloco-dev

# trasloco-dev demo: seeds the compose demo (passwd files, mail, tenant, CSVs).
# Root, because it writes into volumes Docker creates owned by root.
FROM gcr.io/distroless/static-debian12 AS demo
COPY --from=build /out/trasloco-dev /usr/local/bin/trasloco-dev
ENTRYPOINT ["/usr/local/bin/trasloco-dev"]
CMD ["demo", "-h"]

FROM gcr.io/distroless/static-debian12:nonroot AS trasloco
COPY --from=build /out/trasloco /usr/local/bin/trasloco
USER nonroot:nonroot
ENV TRASLOCO_LISTEN=0.0.0.0:8080
EXPOSE 8080
# SIGTERM: stop taking work, let running copies checkpoint, exit (about 50 s
# at most); give the container that long: docker stop -t 60, stop_grace_period.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/trasloco"]
CMD ["serve"]
