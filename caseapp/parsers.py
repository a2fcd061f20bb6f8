"""The JSON parser of the API (REST_FRAMEWORK's default): a 400 for what DRF's own parser turns into a 500.

DRF's JSONParser answers a RecursionError (JSON nested thousands deep) with a 500 and lets NUL characters and lone
surrogates through to fields that do not check them (a JSONField: PostgreSQL refuses ``\\u0000`` in jsonb, psycopg2
cannot encode ``\\ud800``). This one refuses all three, anywhere in the document, keys included.
"""

import json
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings

JSON_MAX_DEPTH = 32
UNSAFE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def json_problem(document) -> str:
    """Why a parsed document is refused ("" when it is fine); iterative, so no depth can overflow the stack."""
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > JSON_MAX_DEPTH:
            return f"JSON nested deeper than {JSON_MAX_DEPTH} levels."
        if isinstance(value, str):
            if UNSAFE_CHARACTERS.search(value):
                return "JSON strings may not contain NUL characters or lone surrogates."
        elif isinstance(value, dict):
            for key, item in value.items():
                stack.append((key, depth))
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return ""


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding) if stream is not None else ""
            document = json.loads(text, parse_constant=_refuse_constant if api_settings.STRICT_JSON else None)
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested deeper than {JSON_MAX_DEPTH} levels.") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        problem = json_problem(document)
        if problem:
            raise ParseError(problem)
        return document
