# Herald's container image: a static binary on a distroless base, run as a
# non-root user. Build: docker build -t herald .
# Run:   docker run -p 8080:8080 -v herald-data:/data herald
# (SQLite and the generated secret key live in the /data volume.)

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO_ENABLED=0: a static binary (Herald's SQLite driver is pure Go), which
# the distroless static base needs.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/herald ./cmd/herald \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/herald /usr/local/bin/herald
COPY --from=build --chown=65532:65532 /out/data /data
# The nonroot user of the distroless image (uid 65532).
USER 65532:65532
ENV HERALD_LISTEN=0.0.0.0:8080 \
    HERALD_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/herald"]
CMD ["serve"]
