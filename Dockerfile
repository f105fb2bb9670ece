# The app as Streamlit's deployment guide builds it (docs.streamlit.io, "Deploy Streamlit using Docker"),
# running exactly what `make run` runs. Build and start:
#   docker build -t architecture-explorer .
#   docker run -p 8501:8501 -v explorer-cache:/app/.cache architecture-explorer
# Operator settings are environment variables (explorer/live/settings.py), e.g. -e EXPLORER_WORKERS=4.
FROM python:3.11-slim

WORKDIR /app

# packages.txt: the Debian packages the app needs (graphviz's dot draws the networks); curl and make for
# the health check and `make run`
COPY packages.txt ./
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl make $(cat packages.txt) \
    && rm -rf /var/lib/apt/lists/*

# torch's CPU wheels: the default index would pull a CUDA build of several GB
ENV PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu PIP_NO_CACHE_DIR=1
COPY requirements.txt Makefile ./
RUN make .venv/.base PYTHON=python3.11

COPY . .

ENV PORT=8501 EXPLORER_CACHE_DIR=/app/.cache/explorer
EXPOSE 8501
HEALTHCHECK CMD curl --fail http://localhost:8501/_stcore/health
ENTRYPOINT ["make", "run"]
