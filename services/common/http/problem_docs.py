"""Documentation of the problem types the API answers with."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.common.errors import NotFoundError
from services.common.http.problems import PROBLEM_TYPES, ProblemTypeDoc

router = APIRouter(tags=["problems"])


@router.get("/problems/{slug}", response_model=ProblemTypeDoc, operation_id="describeProblem")
def describe_problem(slug: str) -> dict[str, Any]:
    """What a problem `type` of this API means and how to fix it."""
    problem = PROBLEM_TYPES.get(slug)
    if problem is None:
        raise NotFoundError(f"There is no problem type {slug!r}.")
    return {"type": problem.uri, "title": problem.title, "status": problem.status, "description": problem.description}
