"""OpenML v1 ``oml:error`` codes mapped onto the gateway's taxonomy, as data.

The codes come from the PHP server's ``pre.php`` table (openml-api.md §2.4). "No results" codes are
not errors to the gateway: list calls turn them into empty lists (see ``NO_RESULT_CODES``).
"""

from __future__ import annotations

from gateway.errors import (
    BackendError,
    BackendUnavailableError,
    BadUserInputError,
    ForbiddenError,
    GatewayError,
    NotFoundError,
    UnauthenticatedError,
)

__all__ = ["BACKEND", "NO_RESULT_CODES", "error_for_code"]

BACKEND = "openml"

# data 372, task 482, flow & estimation procedure 500, run 512, evaluation 542, setup 674, study 599,
# qualities list 641, tag list 1002; 272/362: "no features/qualities"; 273/363: not processed yet.
NO_RESULT_CODES = frozenset(
    {"372", "482", "500", "512", "542", "674", "599", "641", "1002", "272", "362", "273", "363"}
)

_NOT_FOUND = {
    "111", "151", "181", "236", "281", "601", "271", "361", "241", "571", "572", "731",
    "352", "452", "322", "392", "402", "592", "472",
}
_UNAUTHENTICATED = {"102", "103", "137", "350", "310", "320", "400", "460"}
_FORBIDDEN = {
    "104", "106", "112", "275", "602", "323", "353", "393", "453", "594", "476", "693", "696", "1065", "1042",
}
_BAD_INPUT = {
    # has dependants / wrong state
    "324", "326", "327", "328", "354", "454", "464", "595", "404", "694", "1066", "1047",
    # tags
    "470", "471", "473", "474", "475", "477",
    # list filters and limits
    "370", "371", "373", "480", "481", "483", "501", "502", "503", "510", "511", "513", "514", "515", "516",
    "517", "540", "541", "543", "544", "545", "546", "547", "548", "549", "555", "596", "597", "598",
    "670", "671", "672", "673", "675", "676",
}
_UNAVAILABLE = {"107"}

_TABLE: dict[str, type[GatewayError]] = {
    **dict.fromkeys(_NOT_FOUND, NotFoundError),
    **dict.fromkeys(_UNAUTHENTICATED, UnauthenticatedError),
    **dict.fromkeys(_FORBIDDEN, ForbiddenError),
    **dict.fromkeys(_BAD_INPUT, BadUserInputError),
    **dict.fromkeys(_UNAVAILABLE, BackendUnavailableError),
}


def error_for_code(code: str, message: str) -> GatewayError:
    """Return the taxonomy error for an OpenML code; unknown codes are BACKEND_ERROR."""
    cls = _TABLE.get(code, BackendError)
    return cls(message, backend=BACKEND, backend_code=code)
