"""The FastAPI app both services start from: RFC 9457 problems for every
error, no NUL in any parameter, the problem types documented at
`/problems/{slug}`, and the API docs served from the package (offline)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import Depends, FastAPI

from services.common.http import problem_docs, problems
from services.common.http.deps import refuse_nul_characters
from services.common.http.offline_docs import install_offline_docs


def service_app(
    *, title: str, description: str, lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]]
) -> FastAPI:
    app = FastAPI(
        title=title,
        version="0.1.0",
        description=description,
        lifespan=lifespan,
        responses=problems.documented_problems(),
        dependencies=[Depends(refuse_nul_characters)],
        docs_url=None,
        redoc_url=None,
    )
    problems.install(app)
    install_offline_docs(app)
    app.include_router(problem_docs.router)
    return app
