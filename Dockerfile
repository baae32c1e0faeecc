# keyhound in a container. Build: `docker build -t keyhound .`; scan the repository in the
# current directory, mounted read-only at /repo:
#
#   docker run --rm -v "$PWD:/repo:ro" keyhound history
#
# The build stage is the official Rust image at keyhound's minimum Rust version; the final
# image holds the binary alone on distroless's `cc` base, which carries what it links to (glibc,
# libgcc) and nothing else: no shell, no package manager. TLS roots for --verify are compiled
# into the binary.

FROM rust:1.89-slim-bookworm AS build
WORKDIR /build
# Only what the crate builds from (.dockerignore keeps the rest out of the context).
COPY Cargo.toml Cargo.lock build.rs ./
COPY src src
COPY rules rules
COPY hooks hooks
RUN cargo build --release --locked --bin keyhound

# Debian 12, as the build stage, so the binary finds the glibc it was linked against.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /build/target/release/keyhound /usr/local/bin/keyhound
# distroless's unprivileged user, by number so that runtimes can check it is not root.
USER 65532:65532
WORKDIR /repo
ENTRYPOINT ["keyhound"]
CMD ["scan", "."]
