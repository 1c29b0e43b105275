"""The service's front door, for anyone who opens its address: where the API
docs, health and version are (a small page for a browser, JSON for an API
client), the health of its store and the version it runs. No key is needed."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from services.common.http.deps import answer_at, version_answer
from services.measurement.application.queries import catalogue
from services.measurement.entrypoints.http.deps import MeasurementDep
from services.measurement.entrypoints.http.schemas.index import Health, ServiceIndex, ServiceVersion

router = APIRouter(tags=["service"])
SERVICE = "Stocktake measurement service"


def _links(request: Request) -> dict[str, str]:
    links = {
        "docs": "/docs",
        "redoc": "/redoc",
        "openapi": "/openapi.json",
        "health": "/health",
        "version": "/version",
    }
    pages_url: str = request.app.state.pages_url
    if pages_url:
        links["pages"] = pages_url
    return links


def _prefers_html(accept: str) -> bool:
    """Whether the Accept header ranks text/html above application/json (a
    browser's does; curl's `*/*` and an API client's do not)."""
    quality = {"text/html": 0.0, "application/json": 0.0}
    for part in accept.split(","):
        media_type, *parameters = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media_type.lower() in quality:
            quality[media_type.lower()] = max(quality[media_type.lower()], q)
    return quality["text/html"] > quality["application/json"]


def _page(links: dict[str, str]) -> str:
    titles = {
        "docs": "API documentation (Swagger UI)",
        "redoc": "API documentation (ReDoc)",
        "openapi": "OpenAPI document",
        "health": "Health",
        "version": "Version",
        "pages": "Pages for people (the reporting service)",
    }
    items = "\n".join(f'    <li><a href="{escape(url)}">{escape(titles[name])}</a></li>' for name, url in links.items())
    return (
        '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{SERVICE}</title></head>\n<body>\n  <h1>{SERVICE}</h1>\n"
        "  <p>Progress of the ILO Programme of Action on decent work in global supply chains (2017–21). "
        "Every API call but these needs an API key.</p>\n"
        f"  <ul>\n{items}\n  </ul>\n</body>\n</html>\n"
    )


@router.get(
    "/",
    response_model=ServiceIndex,
    operation_id="getServiceIndex",
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
def service_index(request: Request) -> Any:
    """Where to go: the API docs, health, version and, when known, the pages for people (HTML for a browser)."""
    links = _links(request)
    if _prefers_html(request.headers.get("accept", "")):
        return HTMLResponse(_page(links), headers={"Vary": "Accept"})
    return {"service": SERVICE, "links": links}


@router.get("/health", response_model=Health, operation_id="getHealth")
def health(measurement: MeasurementDep, response: Response) -> dict[str, Any]:
    """Whether the service and its store answer (503 when the store does not), with the log's head."""
    head = catalogue.log_head_now(measurement.database)
    answer_at(response, head["position"])
    return {"status": "ok", "position": head["position"]}


@router.get("/version", response_model=ServiceVersion, operation_id="getVersion")
def service_version(request: Request) -> dict[str, Any]:
    """The version of the service (the installed package) and of its API."""
    return version_answer(SERVICE, request)
