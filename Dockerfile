# Build: queries are checked against the committed .sqlx/ data.
FROM rust:1-bookworm AS build
WORKDIR /src
ENV SQLX_OFFLINE=true
COPY . .
RUN cargo build --locked --release --bin partner-portal

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/partner-portal --create-home portal
COPY --from=build /src/target/release/partner-portal /usr/local/bin/partner-portal
USER portal
WORKDIR /var/lib/partner-portal
# ./var holds the key for secrets at rest when PORTAL_SECRET_KEY is unset:
# made here so a volume mounted on it belongs to the portal user.
RUN mkdir -p /var/lib/partner-portal/var
ENV PORTAL_ADDR=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["partner-portal"]
CMD ["serve"]
