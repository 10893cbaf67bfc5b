"""Ugene: a self-hosted user-management gateway. This is the API a module (built-in or plugin) uses."""
from pydantic import Field

from .accounts import account_view, config_view, create_user, find_by_login, find_by_uid, active_admins, \
    valid_email, valid_username
from . import otp
from .clock import unix
from .codes import Code, PluginCode
from .context import Context, Reply, Upload
from .errors import UgeneError
from .passwords import generate_password, password_problem
from .registry import PARTIAL_SESSION, PUBLIC, SESSION, Args, Module, NoArgs, admin
from .sessions import Session

__version__ = "0.1.0"

__all__ = [
    "Args", "Code", "Context", "Field", "Module", "NoArgs", "PARTIAL_SESSION", "PUBLIC", "PluginCode", "Reply",
    "SESSION", "Session", "UgeneError", "Upload", "account_view", "active_admins", "admin", "config_view",
    "create_user", "find_by_login", "find_by_uid", "generate_password", "password_problem", "unix",
    "valid_email", "valid_username", "__version__", "otp",
]
