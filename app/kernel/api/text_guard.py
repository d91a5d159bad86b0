"""One check for every text the API reads: no NUL, no other C0 control but tab/LF/CR, no lone surrogate.

Applied to every operation (`FastAPI(dependencies=…)` in app.main), so no field can forget it: the path,
the query and the JSON body are walked and the first offending field is answered 422 `validation_failed`
with its pointer and the field code `control_character`. A JSON body can only carry these characters as
`\\u` escapes, so the body is parsed again only when its bytes hold one.
"""

from __future__ import annotations

import json
import re

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from app.kernel.schemas import forbidden_character_at

# \u0000–\u001f, \ud800–\udfff, \b and \f, as JSON escapes; a false hit (an escaped backslash) costs a parse.
_ESCAPE = re.compile(rb"\\(?:u(?:00[01]|d[89a-f])|[bf])", re.IGNORECASE)
DETAIL = "Text may not contain NUL, control characters other than tab and line breaks, or lone surrogates."


def _refuse(loc: tuple[str | int, ...]) -> RequestValidationError:
    return RequestValidationError([{"type": "control_character", "loc": loc, "msg": DETAIL}])


async def refuse_control_characters(request: Request) -> None:
    for where, params in (("path", request.path_params), ("query", request.query_params.multi_items())):
        items = params.items() if isinstance(params, dict) else params
        for name, value in items:
            if forbidden_character_at({name: value}) is not None:
                raise _refuse((where, name))
    if request.method in ("GET", "HEAD", "DELETE", "OPTIONS"):
        return
    body = await request.body()
    if not _ESCAPE.search(body):
        return
    try:
        document = json.loads(body)
    except ValueError:
        return  # not JSON: the operation's own body parsing answers
    if (loc := forbidden_character_at(document)) is not None:
        raise _refuse(("body", *loc))
