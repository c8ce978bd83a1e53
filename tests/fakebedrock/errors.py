"""The error the fake answers with: an HTTP status, the service's error code, its message."""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def invalid(message: str) -> ServiceError:
    return ServiceError(400, "ValidationException", message)
