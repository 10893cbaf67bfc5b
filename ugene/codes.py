"""Every code of the protocol (protocol.md §3), each with the HTTP status of its class.

Messages (10xxxx) answer 200; errors (00Dxxx) carry the status proxies and monitors should see.
Plugins declare their own codes with `Module(codes=...)`; the registry checks they do not clash.
"""
from enum import Enum


class Code(str, Enum):
    """A protocol code: the string value is the wire value, `.http` its HTTP status."""

    http: int

    def __new__(cls, value: str, http: int):
        member = str.__new__(cls, value)
        member._value_ = value
        member.http = http
        return member

    # 10xxxx: messages
    RESTORE_LINK_SENT = "100003", 200
    PASSWORD_RESTORED = "100005", 200
    EMAIL_CONFIRMED = "100006", 200
    CONFIRMATION_SENT = "100007", 200
    EMAIL_CHANGE_SENT = "100008", 200
    PASSWORD_CHANGED = "100009", 200
    ACCOUNT_DELETED = "100010", 200
    LOGGED_OUT = "100011", 200
    ADMIN_CHANGED = "100015", 200
    SETTING_SAVED = "100016", 200
    ROLE_SAVED = "100018", 200
    RESTRICTION_SAVED = "100019", 200
    DATA_REQUEST_DONE = "100020", 200
    ROLE_DELETED = "100021", 200
    ROLE_ASSIGNED = "100022", 200
    DONE = "100100", 200
    OTP_SENT = "100104", 200
    OTP_REQUIRED = "100105", 200
    # 001xxx: account data
    LINK_INVALID = "001400", 400
    USERNAME_TAKEN = "001401", 409
    EMAIL_TAKEN = "001402", 409
    PASSWORD_WEAK = "001403", 400
    WRONG_CREDENTIALS = "001404", 401
    EMAIL_INVALID = "001405", 400
    USERNAME_INVALID = "001406", 400
    REGISTRATION_CLOSED = "001407", 403
    EMAIL_NOT_CONFIRMED = "001408", 403
    STATUS_UNCHANGEABLE = "001409", 400
    CURRENT_PASSWORD_WRONG = "001410", 400
    ACCOUNT_BLOCKED = "001411", 403
    ROLE_INVALID = "001412", 400
    OTP_WRONG = "001413", 401
    ROLE_NOT_FOUND = "001414", 404
    USER_NOT_FOUND = "001415", 404
    REFRESH_INVALID = "001416", 401
    TOO_MANY_ATTEMPTS = "001417", 429
    FILE_REJECTED = "001418", 400
    FILE_NOT_FOUND = "001419", 404
    ACCOUNT_RESTRICTED = "001420", 403
    # 002xxx: request and system
    MODULE_NOT_FOUND = "002000", 404
    PARAM_NOT_FOUND = "002001", 404
    MALFORMED_REQUEST = "002002", 400
    INVALID_ARGUMENTS = "002003", 400
    NOT_POSSIBLE = "002004", 400
    INTERNAL_ERROR = "002005", 500
    TOO_MANY_REQUESTS = "002006", 429
    REQUEST_TOO_LARGE = "002007", 413
    SERVICE_UNAVAILABLE = "002008", 503
    # 003xxx: admin and permission
    SETTING_UNCHANGEABLE = "003007", 400
    ADMIN_SESSION_REQUIRED = "003012", 401
    ADMIN_FUNCTION_DENIED = "003013", 403
    NOT_PERMITTED = "003014", 403
    # 004xxx: session
    SESSION_INVALID = "004004", 401
    SESSION_NOT_COMPLETED = "004005", 403


class PluginCode(str):
    """A code declared by a plugin module: a 6-digit string with its HTTP status."""

    http: int

    def __new__(cls, value: str, http: int):
        if len(value) != 6 or not value.isdigit():
            raise ValueError(f"code {value!r} is not a 6-digit string")
        code = str.__new__(cls, value)
        code.http = http
        return code

    @property
    def value(self) -> str:
        return str(self)


CORE_CODES: dict[str, Code] = {code.value: code for code in Code}
