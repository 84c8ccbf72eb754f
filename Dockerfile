# syntax=docker/dockerfile:1
# The server as a small container image (docker-compose.yml runs it). It is for the
# DATABASE_URL mode only: the image has no PostgreSQL, so the embedded default (`serve`
# without DATABASE_URL, which starts PostgreSQL from binaries on the machine) cannot run in it.
#
#   docker build -t customer-service .
#   docker run --rm -e DATABASE_URL=… -e JWT_SECRET=… -p 8080:8080 customer-service

# go.mod's Go version: the image's Go must not be older (it would try to download one).
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# The modules first, in a layer of their own: rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static (no cgo), so it runs without a C library; the build cache survives between builds.
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/customer-service .

# distroless/static: CA certificates (for JWT_JWKS_URL), time zones and /etc/passwd, no
# shell or package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/customer-service /customer-service
# The image's `nonroot` user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/customer-service"]
CMD ["serve"]
