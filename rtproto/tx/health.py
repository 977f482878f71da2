"""
C{/healthz} and C{/metrics}: what a load balancer, an orchestrator or a
monitoring system reads of a running site.

  - C{GET /healthz}: 200 and C{{"status": "ok", "uptime": S,
    "connections": {transport: N}}} while serving; 503 and C{"status":
    "stopping"} once a graceful stop began, so a load balancer takes the
    server out before its connections are closed.
  - C{GET /metrics}: the counters of every transport (see
    L{rtproto.tx._metrics.Metrics}) as JSON; in the Prometheus text format
    when the client asks for it (C{Accept: text/plain} or
    C{application/openmetrics-text}, as Prometheus does, or C{?format=prometheus})
    and C{prometheus_client} is installed.  Asked for Prometheus without
    C{prometheus_client}: 406 with a JSON body saying what to install.

Both answer C{GET} and C{HEAD} only, with C{Cache-Control: no-store}.
"""

import json

from twisted.web.resource import Resource

from rtproto.tx._metrics import Metrics

#: The Prometheus metric families: (name, type, help, counter attribute).
#: C{rtproto_connections} is a gauge; the others count since start.
FAMILIES = (
    ("rtproto_connections", "gauge", "Connections open now.", "connections"),
    ("rtproto_connections_opened", "counter", "Connections opened since start.", "opened"),
    ("rtproto_messages_received", "counter", "Messages received from clients.", "received"),
    ("rtproto_messages_sent", "counter", "Messages sent to clients.", "sent"),
    ("rtproto_slow_clients_dropped", "counter", "Clients dropped for not reading.", "dropped"),
    ("rtproto_protocol_errors", "counter", "Connections closed for a peer's protocol error.", "errors"),
)

_PROMETHEUS_TYPES = (b"text/plain", b"application/openmetrics-text")


def _noStore(request) -> None:
    request.setHeader(b"cache-control", b"no-store")


def _json(request, status: int, body: dict) -> bytes:
    request.setResponseCode(status)
    request.setHeader(b"content-type", b"application/json")
    _noStore(request)
    return json.dumps(body, sort_keys=True).encode("utf-8") + b"\n"


class _MetricsPage(Resource):
    """
    A page of the site's L{Metrics}, answering C{GET} and C{HEAD} at its
    own path only.
    """

    isLeaf = True

    def __init__(self, metrics: Metrics) -> None:
        """
        @param metrics: the site's L{Metrics}.
        """
        super().__init__()
        self.metrics = metrics

    def render_GET(self, request):
        """
        The page, or 404 below it.
        """
        if request.postpath not in ([], [b""]):
            return _json(request, 404, {"error": "not found"})
        return self.renderPage(request)

    render_HEAD = render_GET

    def renderPage(self, request) -> bytes:
        """
        The body of the page (and its status and headers).
        """
        raise NotImplementedError()


class HealthResource(_MetricsPage):
    """
    C{/healthz}: whether the site serves, and its open connections.
    """

    def renderPage(self, request) -> bytes:
        """
        200 while serving, 503 once stopping.
        """
        metrics = self.metrics
        stopping = metrics.stopping
        return _json(
            request,
            503 if stopping else 200,
            {
                "status": "stopping" if stopping else "ok",
                "uptime": round(metrics.uptime(), 3),
                "connections": metrics.connections(),
            },
        )



def prometheusText(metrics: Metrics) -> "tuple[bytes, bytes]":
    """
    The counters in the Prometheus text exposition format, made by
    C{prometheus_client} from a registry holding only these counters (not
    the process's default registry).

    @return: the body and its content type.
    @raise ImportError: C{prometheus_client} is not installed.
    """
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST
    from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily

    class _Collector:
        def collect(self):
            transports = metrics.transports()
            for name, kind, text, attribute in FAMILIES:
                family = (GaugeMetricFamily if kind == "gauge" else CounterMetricFamily)(
                    name, text, labels=["transport"]
                )
                for counters in transports:
                    family.add_metric([counters.name], getattr(counters, attribute))
                yield family
            yield GaugeMetricFamily("rtproto_uptime_seconds", "Seconds since the site started.", value=metrics.uptime())
            yield GaugeMetricFamily(
                "rtproto_stopping", "1 once a graceful stop began.", value=1 if metrics.stopping else 0
            )

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())
    return generate_latest(registry), CONTENT_TYPE_LATEST.encode("ascii")


def _wantsPrometheus(request) -> bool:
    if request.args.get(b"format") == [b"prometheus"]:
        return True
    if request.args.get(b"format") == [b"json"]:
        return False
    accept = (request.getHeader(b"accept") or b"").lower()
    if b"application/json" in accept:
        return False
    return any(kind in accept for kind in _PROMETHEUS_TYPES)


class MetricsResource(_MetricsPage):
    """
    C{/metrics}: the counters, as JSON or as Prometheus text.
    """

    def renderPage(self, request) -> bytes:
        """
        The counters, in the format the client asked for.
        """
        if _wantsPrometheus(request):
            try:
                body, contentType = prometheusText(self.metrics)
            except ImportError:
                return _json(
                    request,
                    406,
                    {"error": "the Prometheus format needs prometheus_client: pip install prometheus_client"},
                )
            request.setHeader(b"content-type", contentType)
            _noStore(request)
            return body
        return _json(request, 200, self.metrics.snapshot())

