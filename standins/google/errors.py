"""Google's JSON error bodies, as the Admin SDK answers them."""

import json

# HTTP status -> the canonical status string Google puts beside the code.
STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}


class GoogleError(Exception):
    """An API call's failure: becomes {"error": {code, message, errors, status}}."""

    def __init__(self, code: int, reason: str, message: str, domain: str = "global", **extra):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.domain = domain
        self.extra = extra  # location, locationType

    def body(self) -> dict:
        item = {"message": self.message, "domain": self.domain, "reason": self.reason}
        item.update(self.extra)
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [item],
                "status": STATUS.get(self.code, "UNKNOWN"),
            }
        }

    def json_bytes(self) -> bytes:
        return json.dumps(self.body()).encode()


def not_found(what: str = "Resource Not Found: userKey") -> GoogleError:
    return GoogleError(404, "notFound", what)


def duplicate() -> GoogleError:
    return GoogleError(409, "duplicate", "Entity already exists.")


def invalid(message: str) -> GoogleError:
    return GoogleError(400, "invalid", message)


def required(field: str) -> GoogleError:
    return GoogleError(400, "required", f"Required field must not be blank: {field}")


def bad_request(message: str = "Bad Request") -> GoogleError:
    return GoogleError(400, "badRequest", message)


def forbidden(message: str = "Not Authorized to access this resource/api") -> GoogleError:
    return GoogleError(403, "forbidden", message)


def auth_error() -> GoogleError:
    return GoogleError(
        401,
        "authError",
        "Invalid Credentials",
        location="Authorization",
        locationType="header",
    )


def insufficient_scopes() -> GoogleError:
    return GoogleError(
        403, "insufficientPermissions", "Request had insufficient authentication scopes."
    )


def rate_limited() -> GoogleError:
    return GoogleError(403, "userRateLimitExceeded", "User Rate Limit Exceeded", "usageLimits")


def quota_exceeded() -> GoogleError:
    return GoogleError(403, "quotaExceeded", "Quota exceeded.", "usageLimits")


def backend_error() -> GoogleError:
    return GoogleError(503, "backendError", "The service is currently unavailable.")
