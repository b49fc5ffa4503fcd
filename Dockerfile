# One image for every jianfu container. Each service runs `faststream run jianfu.<service>.app:app`
# and the one-shot job `jianfu provision && jianfu migrate` (see docker-compose.yml); the image
# itself starts nothing in particular.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml ./
COPY libs ./libs
COPY services ./services
# Wheels of the project and all its dependencies; the runtime stage installs only these.
RUN pip wheel --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    JIANFU_LOG_FORMAT=json
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels jianfu \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /home/jianfu --create-home --shell /usr/sbin/nologin jianfu
USER 10001:10001
WORKDIR /home/jianfu
CMD ["jianfu", "--help"]
